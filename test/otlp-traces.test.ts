/**
 * OTLP/HTTP traces: the real OpenTelemetry tracing SDK with its protobuf and JSON
 * exporters posts to /v1/traces; spans are stored as a tree, exceptions on ERROR spans
 * become error events, GenAI spans LLM logs. Real HTTP, Redis/BullMQ and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { decodeResponse, decodeStatus, encodeRequest } from '../src/domain/ingest/formats/otlp/decode.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { allSucceeded, recording } from './helpers/otel.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
});

function tracerProvider(exporter: SpanExporter) {
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop-api', 'deployment.environment': 'staging', 'service.version': '3.1.0' }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
}

interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  duration_ms: number;
  status_code: string;
  status_message: string | null;
  service: string;
  environment: string;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  origin: string;
}
const spansOf = (u: TestUser): Promise<SpanRow[]> =>
  stack.web.ds.query(`SELECT * FROM spans WHERE project_id = $1 ORDER BY start_time, span_id`, [u.personal.id]);

/** Emits one request's spans: a server span, a DB child, a failing payment call, and a GenAI chat call. */
async function emitCheckout(exporter: SpanExporter): Promise<string> {
  const provider = tracerProvider(exporter);
  const tracer = provider.getTracer('shop', '1.0.0');
  const root = tracer.startSpan('POST /checkout', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'user.id': 'u-7' },
  });
  const inRoot = trace.setSpan(context.active(), root);
  const db = tracer.startSpan('SELECT carts', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } }, inRoot);
  db.end();
  const pay = tracer.startSpan('charge card', { kind: SpanKind.CLIENT }, inRoot);
  pay.recordException(Object.assign(new Error('card declined by issuer'), { name: 'PaymentError' }));
  pay.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' });
  pay.end();
  const chat = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
        'gen_ai.usage.cache_read.input_tokens': 200,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Suggest a gift' }] }]),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'A scarf.' }] }]),
      },
    },
    inRoot,
  );
  chat.end();
  root.end();
  await provider.forceFlush();
  await provider.shutdown();
  return root.spanContext().traceId;
}

describe('the OpenTelemetry tracing SDK', () => {
  it('with the protobuf exporter stores the span tree, an error event for the exception and an LLM log for the GenAI span', async () => {
    const u = await createUser(stack.web.ds);
    const { exporter, results } = recording(
      new ProtoTraceExporter({ url: `${base}/v1/traces`, headers: { 'x-faultline-key': u.apiKey }, compression: 'gzip' as never }),
    );
    const traceId = await emitCheckout(exporter as unknown as SpanExporter);
    expect(allSucceeded(results)).toBe(true);

    const spans = await eventually(async () => {
      const s = await spansOf(u);
      return s.length === 4 ? s : null;
    });
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    const root = byName['POST /checkout'];
    expect(root).toMatchObject({
      trace_id: traceId,
      parent_span_id: null,
      kind: 'server',
      service: 'shop-api',
      environment: 'staging',
      origin: 'otlp',
      status_code: 'unset',
    });
    expect(root.attributes).toEqual({ 'http.request.method': 'POST', 'user.id': 'u-7' });
    for (const child of ['SELECT carts', 'charge card', 'chat gpt-4o-mini'])
      expect(byName[child]).toMatchObject({ trace_id: traceId, parent_span_id: root.span_id, kind: 'client' });
    expect(byName['charge card']).toMatchObject({ status_code: 'error', status_message: 'payment failed' });
    expect(byName['charge card'].events[0]).toMatchObject({
      name: 'exception',
      attributes: expect.objectContaining({ 'exception.type': 'PaymentError' }),
    });
    expect(root.duration_ms).toBeGreaterThanOrEqual(byName['SELECT carts'].duration_ms);

    const errors = await eventually(async () => {
      const e = await stack.web.ds.query(`SELECT * FROM events WHERE project_id = $1`, [u.personal.id]);
      return e.length ? e : null;
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      kind: 'error',
      exception_type: 'PaymentError',
      message: 'card declined by issuer',
      trace_id: traceId,
      span_id: byName['charge card'].span_id,
      service: 'shop-api',
      origin: 'otlp',
    });
    expect(errors[0].stacktrace).toMatch(/PaymentError: card declined by issuer/);
    expect(errors[0].issue_id).not.toBeNull();

    const llm = await eventually(async () => {
      const l = await stack.web.ds.query(`SELECT * FROM llm_logs WHERE project_id = $1`, [u.personal.id]);
      return l.length ? l : null;
    });
    expect(llm[0]).toMatchObject({
      model: 'gpt-4o-mini-2024-07-18',
      source: 'openai',
      prompt_tokens: 1200,
      completion_tokens: 300,
      total_tokens: 1500,
      cached_tokens: 200,
      trace_id: traceId,
      span_id: byName['chat gpt-4o-mini'].span_id,
      error: null,
      origin: 'otlp',
    });
    expect(llm[0].latency_ms).toBeCloseTo(byName['chat gpt-4o-mini'].duration_ms, 6);
    expect(JSON.parse(llm[0].query)[0].parts[0].content).toBe('Suggest a gift');
    expect(JSON.parse(llm[0].response)[0].parts[0].content).toBe('A scarf.');
    expect(llm[0].metadata).toMatchObject({
      operation: 'chat',
      provider: 'openai',
      finish_reasons: ['stop'],
      request_model: 'gpt-4o-mini',
    });
  });

  it('with the JSON exporter and Authorization: Bearer stores the same spans; a retry stores nothing twice', async () => {
    const u = await createUser(stack.web.ds);
    const { exporter, results } = recording(
      new JsonTraceExporter({ url: `${base}/api/otlp/v1/traces`, headers: { Authorization: `Bearer ${u.apiKey}` } }),
    );
    const traceId = await emitCheckout(exporter as unknown as SpanExporter);
    expect(allSucceeded(results)).toBe(true);
    const spans = await eventually(async () => {
      const s = await spansOf(u);
      return s.length === 4 ? s : null;
    });
    expect(new Set(spans.map((s) => s.trace_id))).toEqual(new Set([traceId]));

    // The same request again, byte for byte: ids are derived from the spans.
    const request = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: Buffer.from(traceId, 'hex'),
                  spanId: Buffer.from(spans[0].span_id, 'hex'),
                  name: 'again',
                  startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                },
              ],
            },
          ],
        },
      ],
    };
    for (let i = 0; i < 2; i++)
      expect(
        (
          await fetch(`${base}/v1/traces`, {
            method: 'POST',
            body: encodeRequest('traces', request),
            headers: { 'Content-Type': 'application/x-protobuf', 'x-faultline-key': u.apiKey },
          })
        ).status,
      ).toBe(200);
    await eventually(async () => {
      const c = await stack.web.queues.events.getJobCounts('waiting', 'active', 'delayed');
      return c.waiting + c.active + c.delayed === 0;
    });
    expect(await spansOf(u)).toHaveLength(4);
  });
});

describe('bad spans', () => {
  const now = () => String(BigInt(Date.now()) * 1_000_000n);
  const id = (n: number, fill: number) => Buffer.alloc(n, fill);
  const post = (body: Buffer, key: string) =>
    fetch(`${base}/v1/traces`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', 'x-faultline-key': key } });

  it('are refused alone with partial_success; when all are, the answer is 400 and nothing is queued', async () => {
    const u = await createUser(stack.web.ds);
    const good = { traceId: id(16, 1), spanId: id(8, 1), name: 'ok', startTimeUnixNano: now(), endTimeUnixNano: now() };
    const bad = [
      { traceId: id(15, 1), spanId: id(8, 2), name: 'short trace', startTimeUnixNano: now() },
      { traceId: id(16, 1), spanId: id(9, 3), name: 'long span', startTimeUnixNano: now() },
      { traceId: id(16, 1), spanId: id(8, 4), name: 'no start' },
      { traceId: id(16, 1), spanId: id(8, 5), name: 'ends first', startTimeUnixNano: now(), endTimeUnixNano: '1' },
      {
        traceId: id(16, 1),
        spanId: id(8, 6),
        name: 'too many',
        startTimeUnixNano: now(),
        attributes: Array.from({ length: 10_000 }, (_, i) => ({ key: `a${i}`, value: { boolValue: true } })),
      },
    ];
    const r = await post(encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: [good, ...bad] }] }] }), u.apiKey);
    expect(r.status).toBe(200);
    const partial = decodeResponse('traces', Buffer.from(await r.arrayBuffer()), 'protobuf');
    expect(partial).toMatchObject({ rejected: 5 });
    expect(partial?.errorMessage).toMatch(/trace_id is 15 bytes/);
    const stored = await eventually(async () => {
      const s = await spansOf(u);
      return s.length ? s : null;
    });
    expect(stored.map((s) => s.name)).toEqual(['ok']);

    const before = await stack.web.queues.events.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    const all = await post(encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: bad }] }] }), u.apiKey);
    expect(all.status).toBe(400);
    expect(decodeStatus(Buffer.from(await all.arrayBuffer()), 'protobuf')).toMatchObject({ code: 3, reason: 'all_rejected' });
    expect(await stack.web.queues.events.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed')).toEqual(before);
  });
});

describe('retention', () => {
  it("expire-spans deletes spans older than their project's retention_days, and only those", async () => {
    const u = await createUser(stack.web.ds);
    await stack.web.ds.query(`UPDATE projects SET retention_days = 30 WHERE id = $1`, [u.personal.id]);
    const nanos = (daysAgo: number) => String(BigInt(Date.now() - daysAgo * 86_400_000) * 1_000_000n);
    const span = (n: number, daysAgo: number) => ({
      traceId: Buffer.alloc(16, 9),
      spanId: Buffer.alloc(8, n),
      name: `${daysAgo} days ago`,
      startTimeUnixNano: nanos(daysAgo),
    });
    const r = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      body: encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: [span(1, 45), span(2, 29), span(3, 0)] }] }] }),
      headers: { 'Content-Type': 'application/x-protobuf', 'x-faultline-key': u.apiKey },
    });
    expect(r.status).toBe(200);
    await eventually(async () => (await spansOf(u)).length === 3);
    const { addJob } = await import('../src/queues/producer.ts');
    await addJob(stack.web.queues, 'expire-spans', {});
    const left = await eventually(async () => {
      const s = await spansOf(u);
      return s.length === 2 ? s : null;
    });
    expect(left.map((s) => s.name)).toEqual(['29 days ago', '0 days ago']);
  });
});

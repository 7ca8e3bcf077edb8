/**
 * GET /api/traces/{trace_id}/: one request traced through every kind — spans, an error,
 * a log and an LLM call sent by the real OpenTelemetry SDKs — comes back as one tree in
 * time order, to the project's members only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { treeOrder } from '../src/domain/traces/view.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, inviteAndAccept, type TestUser } from './helpers/factories.ts';

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

const get = (u: TestUser, path: string) => stack.http.get(path).set('Authorization', `Bearer ${u.access}`);

/** One checkout request: a server span; a log inside it; a GenAI call; a failing payment with its exception. */
async function tracedRequest(u: TestUser): Promise<string> {
  const resource = resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment.name': 'production' });
  const tracing = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers: { 'x-faultline-key': u.apiKey } }))],
  });
  const logging = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${base}/v1/logs`, headers: { 'x-faultline-key': u.apiKey } }) }),
    ],
  });
  const tracer = tracing.getTracer('checkout');
  // Explicit start times: spans started within the same microsecond would have no order to assert.
  const t0 = Date.now();
  const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, startTime: t0 });
  const inRoot = trace.setSpan(context.active(), root);
  logging.getLogger('checkout').emit({ severityNumber: SeverityNumber.INFO, body: 'cart has 3 items', context: inRoot });
  const llm = tracer.startSpan(
    'chat gpt-4o',
    {
      kind: SpanKind.CLIENT,
      startTime: t0 + 2,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20,
      },
    },
    inRoot,
  );
  llm.end(t0 + 5);
  const pay = tracer.startSpan('charge', { kind: SpanKind.CLIENT, startTime: t0 + 6 }, inRoot);
  pay.recordException(Object.assign(new Error('insufficient funds'), { name: 'PaymentDeclined' }));
  pay.setStatus({ code: SpanStatusCode.ERROR });
  pay.end(t0 + 9);
  root.end(t0 + 10);
  await Promise.all([tracing.forceFlush(), logging.forceFlush()]);
  await Promise.all([tracing.shutdown(), logging.shutdown()]);
  return root.spanContext().traceId;
}

describe('GET /api/traces/{trace_id}/', () => {
  it('answers the span tree with the error, the log and the LLM call of the request, in time order', async () => {
    const u = await createUser(stack.web.ds);
    const traceId = await tracedRequest(u);
    const body = await eventually(async () => {
      const r = await get(u, `/api/traces/${traceId}/`);
      return r.status === 200 &&
        r.body.counts.spans === 3 &&
        r.body.counts.errors === 1 &&
        r.body.counts.logs === 1 &&
        r.body.counts.llm_calls === 1
        ? r.body
        : null;
    });
    expect(body).toMatchObject({
      trace_id: traceId,
      projects: [u.personal.id],
      services: ['checkout'],
      truncated: { spans: false, errors: false, logs: false, llm_calls: false },
    });
    const [root, ...children] = body.spans;
    expect(root).toMatchObject({ name: 'POST /checkout', depth: 0, parent_span_id: null, offset_ms: 0, kind: 'server' });
    expect(children.map((s: { name: string; depth: number; parent_span_id: string }) => [s.name, s.depth, s.parent_span_id])).toEqual([
      ['chat gpt-4o', 1, root.span_id],
      ['charge', 1, root.span_id],
    ]);
    const charge = children[1];
    expect(body.errors[0]).toMatchObject({
      exception_type: 'PaymentDeclined',
      message: 'insufficient funds',
      span_id: charge.span_id,
      issue: expect.any(Number),
    });
    expect(body.logs[0]).toMatchObject({ message: 'cart has 3 items', severity: 'INFO', span_id: root.span_id, source: 'checkout' });
    expect(body.llm_calls[0]).toMatchObject({ model: 'gpt-4o', prompt_tokens: 100, completion_tokens: 20, span_id: children[0].span_id });
    expect(body.llm_calls[0].cost).toBeCloseTo((100 * 2.5 + 20 * 10) / 1e6, 10);
    // The timeline holds everything, ordered by time; the root span starts it.
    expect(body.timeline).toHaveLength(6);
    expect(body.timeline[0]).toMatchObject({ type: 'span', id: root.span_id });
    const times = body.timeline.map((t: { time: string }) => t.time);
    expect([...times].sort()).toEqual(times);
    expect(new Set(body.timeline.map((t: { type: string }) => t.type))).toEqual(new Set(['span', 'error', 'log', 'llm_call']));
  });

  it('is project-scoped: a member reads it, anyone else gets 404 as for a trace that does not exist; a malformed id is 400', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    await inviteAndAccept(stack.http, owner.personal.id, owner.access, viewer, 'viewer');
    const traceId = await tracedRequest(owner);
    await eventually(async () => (await get(owner, `/api/traces/${traceId}/`)).body.counts?.logs === 1);
    expect((await get(viewer, `/api/traces/${traceId.toUpperCase()}/`)).status).toBe(200);
    expect((await get(viewer, `/api/traces/${traceId}/?project=${owner.personal.id}`)).status).toBe(200);
    expect((await get(stranger, `/api/traces/${traceId}/`)).status).toBe(404);
    expect((await get(stranger, `/api/traces/${traceId}/?project=${owner.personal.id}`)).status).toBe(404);
    expect((await get(owner, `/api/traces/${'f'.repeat(32)}/`)).status).toBe(404);
    const bad = await get(owner, '/api/traces/not-a-trace/');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_trace_id');
    expect((await stack.http.get(`/api/traces/${traceId}/`)).status).toBe(401);
  });
});

describe('treeOrder', () => {
  it('walks depth-first with children by start, survives parent cycles and deep chains', () => {
    const s = (id: string, parent: string | null, start: number) => ({ span_id: id, parent_span_id: parent, start });
    expect(
      treeOrder([s('c', 'a', 3), s('b', 'a', 2), s('a', null, 1), s('d', 'b', 4), s('x', 'y', 0), s('y', 'x', 5)]).map((x) => [
        x.span_id,
        x.depth,
      ]),
    ).toEqual([
      ['a', 0],
      ['b', 1],
      ['d', 2],
      ['c', 1],
      ['x', 0],
      ['y', 1],
    ]);
    const chain = Array.from({ length: 50_000 }, (_, i) => s(`s${i}`, i ? `s${i - 1}` : null, i));
    expect(treeOrder(chain).at(-1)?.depth).toBe(49_999);
  });
});

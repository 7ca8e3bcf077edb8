/**
 * OTLP/HTTP logs: the real OpenTelemetry logs SDK with its protobuf and JSON exporters
 * posts to /v1/logs; records become logs (and error events, for exceptions). Bad input
 * gets the spec's answers and stores nothing. Real HTTP, Redis/BullMQ and PostgreSQL.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
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

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

function provider(exporter: ConstructorParameters<typeof BatchLogRecordProcessor>[0]['exporter'], service = 'checkout') {
  return new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.4.2', 'deployment.environment.name': 'production' }),
    processors: [new BatchLogRecordProcessor({ exporter })],
  });
}

interface Row {
  kind: string;
  level: string;
  message: string;
  service: string | null;
  environment: string | null;
  trace_id: string | null;
  span_id: string | null;
  exception_type: string | null;
  stacktrace: string | null;
  tags: Record<string, unknown>;
  extra: { attributes: Record<string, unknown>; resource: Record<string, unknown> };
  issue_id: string | null;
  origin: string;
}
const rowsOf = (u: TestUser): Promise<Row[]> =>
  stack.web.ds.query(
    `SELECT kind, level, message, service, environment, trace_id, span_id, exception_type, stacktrace, tags, extra, issue_id, origin, "timestamp" FROM events WHERE project_id = $1 ORDER BY message`,
    [u.personal.id],
  );

async function totalJobs() {
  const c = await stack.web.queues.events.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

const post = (path: string, body: Buffer | string, headers: Record<string, string>) =>
  fetch(`${base}${path}`, { method: 'POST', body, headers });
const proto = (key: string) => ({ 'Content-Type': 'application/x-protobuf', 'x-faultline-key': key });

/** A request with the given records, under one resource (service "raw"). */
function request(
  records: Array<Record<string, unknown>>,
  resourceAttributes: Array<Record<string, unknown>> = [{ key: 'service.name', value: { stringValue: 'raw' } }],
) {
  return {
    resourceLogs: [{ resource: { attributes: resourceAttributes }, scopeLogs: [{ scope: { name: 'test' }, logRecords: records }] }],
  };
}
const nowNanos = () => String(BigInt(Date.now()) * 1_000_000n);

describe('the OpenTelemetry logs SDK', () => {
  it('with the protobuf exporter (gzip, x-faultline-key) stores logs with their level, service, environment, attributes and trace', async () => {
    const u = await createUser(stack.web.ds);
    const { exporter, results } = recording(
      new ProtoLogExporter({ url: `${base}/v1/logs`, headers: { 'x-faultline-key': u.apiKey }, compression: 'gzip' as never }),
    );
    const logs = provider(exporter);
    const logger = logs.getLogger('payments', '2.0.0');
    const span = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    logger.emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: 'card declined',
      attributes: { 'user.id': 'u-42', attempt: 3, 'card.brand': 'visa' },
      context: span,
    });
    logger.emit({ severityNumber: SeverityNumber.INFO, body: { event: 'cart', items: 2 } });
    logger.emit({ severityNumber: SeverityNumber.ERROR, body: 'charge failed', exception: new RangeError('amount out of range') });
    await logs.forceFlush();
    await logs.shutdown();
    expect(allSucceeded(results)).toBe(true);

    const rows = await eventually(async () => {
      const r = await rowsOf(u);
      return r.length === 3 ? r : null;
    });
    const [declined, errorRow, cart] = [
      rows.find((r) => r.message === 'card declined')!,
      rows.find((r) => r.kind === 'error')!,
      rows.find((r) => r.message.includes('cart'))!,
    ];
    expect(declined).toMatchObject({
      kind: 'log',
      level: 'warning',
      service: 'checkout',
      environment: 'production',
      trace_id: TRACE_ID,
      span_id: SPAN_ID,
      origin: 'otlp',
    });
    expect(declined.tags).toEqual({ release: '1.4.2', logger: 'payments' });
    expect(declined.extra.attributes).toEqual({ 'user.id': 'u-42', attempt: 3, 'card.brand': 'visa' });
    expect(declined.extra.resource['service.name']).toBe('checkout');
    expect(JSON.parse(cart.message)).toEqual({ event: 'cart', items: 2 });
    expect(cart).toMatchObject({ level: 'info', trace_id: null });
    // The exception record is an error event, grouped into an issue.
    expect(errorRow).toMatchObject({ level: 'error', exception_type: 'RangeError', message: 'amount out of range' });
    expect(errorRow.stacktrace).toMatch(/RangeError: amount out of range/);
    expect(errorRow.issue_id).not.toBeNull();

    // Through the logs API, as any log.
    const api = (await stack.http.get(`/api/logs/?project=${u.personal.id}&severity=WARNING`).set('Authorization', `Bearer ${u.access}`))
      .body;
    expect(api.results.map((l: { message: string; source: string }) => [l.message, l.source])).toEqual([['card declined', 'checkout']]);
    const issues = (await stack.http.get(`/api/issues/?project=${u.personal.id}`).set('Authorization', `Bearer ${u.access}`)).body;
    expect(issues.results[0]).toMatchObject({ title: expect.stringContaining('RangeError'), times_seen: 1 });
  });

  it('with the JSON exporter and Authorization: Bearer stores the same way', async () => {
    const u = await createUser(stack.web.ds);
    const { exporter, results } = recording(
      new JsonLogExporter({ url: `${base}/v1/logs`, headers: { Authorization: `Bearer ${u.apiKey}` } }),
    );
    const logs = provider(exporter, 'json-service');
    const span = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    logs.getLogger('web').emit({
      severityNumber: SeverityNumber.FATAL,
      body: 'out of memory',
      attributes: { heap: 1.5, ok: false, tags: ['a', 'b'] },
      context: span,
    });
    await logs.forceFlush();
    await logs.shutdown();
    expect(allSucceeded(results)).toBe(true);
    const [row] = await eventually(async () => {
      const r = await rowsOf(u);
      return r.length === 1 ? r : null;
    });
    expect(row).toMatchObject({
      kind: 'log',
      level: 'critical',
      message: 'out of memory',
      service: 'json-service',
      trace_id: TRACE_ID,
      span_id: SPAN_ID,
    });
    expect(row.extra.attributes).toEqual({ heap: 1.5, ok: false, tags: ['a', 'b'] });
  });

  it('a retried export stores nothing twice', async () => {
    const u = await createUser(stack.web.ds);
    const body = gzipSync(encodeRequest('logs', request([{ timeUnixNano: nowNanos(), severityNumber: 9, body: { stringValue: 'once' } }])));
    for (let i = 0; i < 2; i++)
      expect((await post('/api/otlp/v1/logs', body, { ...proto(u.apiKey), 'Content-Encoding': 'gzip' })).status).toBe(200);
    // Both jobs done (the queue is idle), and one row.
    await eventually(async () => {
      const c = await stack.web.queues.events.getJobCounts('waiting', 'active', 'delayed');
      return c.waiting + c.active + c.delayed === 0 && (await rowsOf(u)).length > 0;
    });
    expect(await rowsOf(u)).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('records breaking a limit are refused alone: 200 with partial_success counting them', async () => {
    const u = await createUser(stack.web.ds);
    const many = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    const body = encodeRequest(
      'logs',
      request([
        { timeUnixNano: nowNanos(), severityNumber: 9, body: { stringValue: 'kept' } },
        { timeUnixNano: nowNanos(), body: { stringValue: 'too many attributes' }, attributes: many },
        { timeUnixNano: nowNanos(), body: { stringValue: 'short trace id' }, traceId: Buffer.alloc(5, 1) },
        { timeUnixNano: '18446744073709551615', body: { stringValue: 'the year 2554' } },
      ]),
    );
    const r = await post('/v1/logs', body, proto(u.apiKey));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-protobuf');
    const partial = decodeResponse('logs', Buffer.from(await r.arrayBuffer()), 'protobuf');
    expect(partial?.rejected).toBe(3);
    expect(partial?.errorMessage).toMatch(/300 attributes; the limit is 256[\s\S]*trace_id is 5 bytes[\s\S]*future/);
    const rows = await eventually(async () => {
      const x = await rowsOf(u);
      return x.length ? x : null;
    });
    expect(rows.map((x) => x.message)).toEqual(['kept']);
  });

  it('when every record is refused, or the body cannot be decoded, the answer is a 400 google.rpc.Status and nothing is queued', async () => {
    const u = await createUser(stack.web.ds);
    const before = await totalJobs();
    const huge = Array.from({ length: 10_000 }, (_, i) => ({ key: `a${i}`, value: { stringValue: 'x' } }));
    const cases: Array<[string, Buffer | string, Record<string, string>, RegExp]> = [
      [
        '10k attributes',
        encodeRequest('logs', request([{ body: { stringValue: 'x' }, attributes: huge }])),
        proto(u.apiKey),
        /10000 attributes/,
      ],
      ['garbage protobuf', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), proto(u.apiKey), /not a valid OTLP/],
      [
        'JSON with wrong types',
        JSON.stringify({ resourceLogs: [{ scopeLogs: 'nope' }] }),
        { 'Content-Type': 'application/json', 'x-faultline-key': u.apiKey },
        /scopeLogs: array expected/,
      ],
      [
        'a string timestamp that is no number',
        JSON.stringify(request([{ timeUnixNano: 'yesterday' }])),
        { 'Content-Type': 'application/json', 'x-faultline-key': u.apiKey },
        /timeUnixNano: unsigned 64-bit integer/,
      ],
      [
        'an id that is not hex',
        JSON.stringify(request([{ traceId: 'zz'.repeat(16) }])),
        { 'Content-Type': 'application/json', 'x-faultline-key': u.apiKey },
        /traceId: hex string expected/,
      ],
      ['malformed JSON', '{"resourceLogs": [', { 'Content-Type': 'application/json', 'x-faultline-key': u.apiKey }, /malformed JSON/],
    ];
    for (const [what, body, headers, message] of cases) {
      const r = await post('/v1/logs', body, headers);
      expect([what, r.status]).toEqual([what, 400]);
      const encoding = headers['Content-Type'] === 'application/json' ? 'json' : 'protobuf';
      expect(r.headers.get('content-type')).toBe(encoding === 'json' ? 'application/json' : 'application/x-protobuf');
      const status = decodeStatus(Buffer.from(await r.arrayBuffer()), encoding);
      expect([what, status.code]).toEqual([what, 3]); // INVALID_ARGUMENT
      expect(status.message).toMatch(message);
      expect(status.reason).toMatch(/^(undecodable|all_rejected)$/);
    }
    expect(await totalJobs()).toBe(before);
    expect(await rowsOf(u)).toHaveLength(0);
  });

  it('a gzip bomb is cut off at the limit (413), the server fine afterwards', async () => {
    const u = await createUser(stack.web.ds);
    const before = await totalJobs();
    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024)); // 100 MB of zeros, ~100 KB on the wire
    const r = await post('/v1/logs', bomb, { ...proto(u.apiKey), 'Content-Encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(decodeStatus(Buffer.from(await r.arrayBuffer()), 'protobuf')).toMatchObject({ code: 11, reason: 'payload_too_large' });
    expect(await totalJobs()).toBe(before);
    const ok = await post('/v1/logs', encodeRequest('logs', request([{ body: { stringValue: 'after the bomb' } }])), proto(u.apiKey));
    expect(ok.status).toBe(200);
  });

  it('credentials and media types: 401 without or with an unknown key, 415 for other content types; /v1/metrics is a clear 404', async () => {
    const u = await createUser(stack.web.ds);
    const body = encodeRequest('logs', request([{ body: { stringValue: 'x' } }]));
    const none = await post('/v1/logs', body, { 'Content-Type': 'application/x-protobuf' });
    expect(none.status).toBe(401);
    expect(decodeStatus(Buffer.from(await none.arrayBuffer()), 'protobuf')).toMatchObject({ code: 16, reason: 'authentication_required' });
    expect((await post('/v1/logs', body, proto('flk_unknown00000000000000000000000000'))).status).toBe(401);
    const text = await post('/v1/logs', 'hello', { 'Content-Type': 'text/plain', 'x-faultline-key': u.apiKey });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { details: Array<{ reason: string }> }).details[0].reason).toBe('unsupported_media_type');
    const metrics = await post('/v1/metrics', '{}', { 'Content-Type': 'application/json', 'x-faultline-key': u.apiKey });
    expect(metrics.status).toBe(404);
    expect(((await metrics.json()) as { message: string }).message).toMatch(/not metrics/);
  });
});

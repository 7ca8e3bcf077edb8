/**
 * OTLP load shedding: exporters retry on 429 and 503 when Retry-After says when, so that
 * is what the receivers answer when the queue is over its limit. The limit is read from
 * config at import, so it is set before importing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

process.env.INGEST_MAX_QUEUE_DEPTH = '2';
const { eventually, listen, startWeb } = await import('./helpers/stack.ts');
const { createUser } = await import('./helpers/factories.ts');
const { addJob } = await import('../src/queues/producer.ts');
const { decodeStatus, encodeRequest } = await import('../src/domain/ingest/formats/otlp/decode.ts');

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

describe('when the queue is over its limit', () => {
  it('/v1/logs answers 429 with Retry-After and a google.rpc.Status, and queues nothing', async () => {
    const u = await createUser(stack.web.ds);
    const now = new Date().toISOString();
    const item = {
      project_id: u.personal.id,
      kind: 'log' as const,
      event_type: null,
      timestamp: now,
      received_at: now,
      level: 'info' as const,
      message: 'x',
      exception_type: null,
      stacktrace: null,
      environment: null,
      service: null,
      user_ref: null,
      tags: {},
      extra: {},
      origin: 'test',
    };
    // No worker runs in this file: these wait in the queue.
    for (let i = 0; i < 5; i++) await addJob(stack.web.queues, 'store-events', { items: [{ ...item, event_id: `fill-${i}` }] });
    await eventually(async () => stack.web.producer.queueDepth > 2);

    const base = await listen(stack.web);
    const body = encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'shed me' } }] }] }] });
    const r = await fetch(`${base}/v1/logs`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/x-protobuf', 'x-faultline-key': u.apiKey },
    });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(decodeStatus(Buffer.from(await r.arrayBuffer()), 'protobuf')).toMatchObject({ code: 8, reason: 'over_capacity' }); // RESOURCE_EXHAUSTED
    expect(await stack.web.queues.events.getWaitingCount()).toBe(5);
  });
});

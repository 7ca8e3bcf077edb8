/**
 * Load shedding as Sentry SDKs expect it: 429 with Retry-After and X-Sentry-Rate-Limits.
 * The queue depth limit is read from config at import, so it is set before importing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

process.env.INGEST_MAX_QUEUE_DEPTH = '2';
const { eventually, listen, startWeb } = await import('./helpers/stack.ts');
const { createUser } = await import('./helpers/factories.ts');
const { addJob } = await import('../src/queues/producer.ts');

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

describe('when the queue is over its limit', () => {
  it('Sentry endpoints answer 429 with Retry-After and X-Sentry-Rate-Limits; seed endpoints 503', async () => {
    const u = await createUser(stack.web.ds);
    const item = {
      project_id: u.personal.id,
      kind: 'error' as const,
      event_type: null,
      timestamp: new Date().toISOString(),
      received_at: new Date().toISOString(),
      level: 'error' as const,
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
    const r = await fetch(`${base}/api/${u.personal.id}/store/?sentry_key=${u.apiKey}`, {
      method: 'POST',
      body: JSON.stringify({ message: 'hi' }),
    });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(r.headers.get('x-sentry-rate-limits')).toMatch(/^\d+::organization/);
    const seed = await stack.http.post('/api/events/').set('Authorization', `Bearer ${u.apiKey}`).send({ message: 'hi' });
    expect(seed.status).toBe(503);
    expect(seed.body.code).toBe('over_capacity');
  });
});

/**
 * Invariant 1: no 2xx unless the item is in Redis. When Redis is down, hangs, or the
 * queue is over its limit, ingestion answers 503 with Retry-After.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pickPort } from '../src/devstack/process.ts';
import { startRedis, type LocalRedis } from '../src/devstack/redis.ts';
import { AppError } from '../src/domain/errors.ts';
import { pantiesToRecord, PantiesEventSchema } from '../src/domain/ingest/formats/panties.ts';
import { EventProducer } from '../src/queues/producer.ts';
import { countEvents, env, eventually, startWeb, startWorker } from './helpers/stack.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';

// A Redis of this file's own, to stop and start at will.
const dir = mkdtempSync(path.join(tmpdir(), 'faultline-redis-'));
let port: number;
let redis: LocalRedis;
let stack: Awaited<ReturnType<typeof startWeb>>;
let user: TestUser;

const post = (event: object) => stack.http.post('/api/events/').set('Authorization', `Bearer ${user.apiKey}`).send(event);

beforeAll(async () => {
  port = await pickPort();
  redis = await startRedis({ dir, port, persistent: false });
  stack = await startWeb({ databaseUrl: env().databaseUrl, redisUrl: redis.url });
  await eventually(async () => stack.web.redis.status === 'ready');
  user = await createUser(stack.web.ds);
});
afterAll(async () => {
  await stack.web.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('when Redis cannot take the event', () => {
  it('answers 503 with Retry-After while Redis is down, and 202 again once it is back', async () => {
    expect((await post(pantiesEvent({ event_id: 'before' }))).status).toBe(202);

    await redis.stop();
    await eventually(async () => stack.web.redis.status !== 'ready');
    const down = await post(pantiesEvent({ event_id: 'during' }));
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toMatch(/^\d+$/);
    expect(down.body).toMatchObject({ code: 'queue_unavailable' });

    redis = await startRedis({ dir, port, persistent: false });
    const back = await eventually(async () => {
      const r = await post(pantiesEvent({ event_id: 'after' }));
      return r.status === 202 ? r : null;
    });
    expect(back.body).toEqual({ event_id: 'after' });

    // The restarted Redis is empty (no AOF in this test): only what was accepted after it came back exists.
    const worker = await startWorker({}, { databaseUrl: env().databaseUrl, redisUrl: redis.url });
    try {
      await eventually(async () => (await countEvents(stack.web.ds, user.personal.id)) >= 1);
      const rows: Array<{ event_id: string }> = await stack.web.ds.query('SELECT event_id FROM events WHERE project_id = $1', [
        user.personal.id,
      ]);
      expect(rows.map((r) => r.event_id)).not.toContain('during');
    } finally {
      await worker.close();
    }
  });

  it('answers 503 when Redis hangs instead of answering (enqueue timeout)', async () => {
    redis.service.child.kill('SIGSTOP');
    try {
      const res = await post(pantiesEvent({ event_id: 'hung' }));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      redis.service.child.kill('SIGCONT');
    }
  });
});

describe('load shedding', () => {
  it('refuses with 503 over_capacity once the queue is deeper than its limit', async () => {
    const producer = new EventProducer(stack.web.redis, stack.web.queues, {
      windowMs: 0,
      maxItems: 10,
      maxBytes: 1 << 20,
      enqueueTimeoutMs: 2000,
      maxQueueDepth: 3,
    });
    try {
      const rec = () => pantiesToRecord(PantiesEventSchema.parse(pantiesEvent()), user.personal.id, new Date().toISOString());
      for (let i = 0; i < 5; i++) await producer.enqueue([rec()], 1000); // no worker running: they wait
      await eventually(async () => producer.queueDepth > 3);
      const refused = await producer.enqueue([rec()], 1000).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AppError);
      expect(refused).toMatchObject({ status: 503, code: 'over_capacity', headers: { 'Retry-After': expect.any(String) } });
    } finally {
      await producer.close();
    }
  });
});

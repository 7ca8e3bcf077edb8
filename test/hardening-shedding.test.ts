/**
 * Load shedding by bytes: ingestion is refused (503 + Retry-After) once Redis holds
 * INGEST_MAX_REDIS_MEMORY or a fraction of its maxmemory, and once this process holds
 * INGEST_MAX_PENDING_BYTES waiting for Redis; nothing refused is queued; completed jobs
 * leave no payload behind. This file runs a Redis of its own (its memory is what is
 * measured, and it is stopped at will); the limits are read from config at import, so
 * they are set, relative to that Redis's memory, before importing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { pickPort } from '../src/devstack/process.ts';
import { startRedis } from '../src/devstack/redis.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'faultline-shedding-'));
const redis = await startRedis({ dir, port: await pickPort(), persistent: false });
const probe = new Redis(redis.url);
const usedMemory = async () => Number(/^used_memory:(\d+)/m.exec(await probe.info('memory'))![1]);

const HEADROOM = 32 * MiB;
const memoryLimit = (await usedMemory()) + HEADROOM;
process.env.INGEST_MAX_REDIS_MEMORY = String(memoryLimit);
process.env.INGEST_MAX_PENDING_BYTES = '1536kb';

const { config } = await import('../src/config.ts');
const { countEvents, env, eventually, jobsAdded, startWeb, startWorker } = await import('./helpers/stack.ts');
const { createUser, pantiesEvent } = await import('./helpers/factories.ts');
const { DEFAULT_REDIS_MEMORY_LIMIT, redisMemoryLimit } = await import('../src/queues/producer.ts');

let stack: Awaited<ReturnType<typeof startWeb>>;
let apiKey: string;
let projectId: number;

beforeAll(async () => {
  stack = await startWeb({ databaseUrl: env().databaseUrl, redisUrl: redis.url });
  await eventually(async () => stack.web.redis.status === 'ready');
  const u = await createUser(stack.web.ds);
  apiKey = u.apiKey;
  projectId = u.personal.id;
});
afterAll(async () => {
  await stack?.web.close();
  await probe.quit();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** ~1 MB: 50 events of 20 KB, ids tagged so they can be found in the queue; every message differs (a job carries a field shared by all its records once: src/queues/pack.ts). */
const batch = (tag: string) =>
  Array.from({ length: 50 }, (_, i) => pantiesEvent({ event_id: `${tag}-${i}`, message: `${tag}-${i} ${'x'.repeat(20_000)}` }));
const post = (tag: string) => stack.http.post('/api/events/').set('Authorization', `Bearer ${apiKey}`).send(batch(tag));

/** Which of these batches were stored (by their first event). */
async function storedBatches(tags: string[]): Promise<string[]> {
  const rows: Array<{ event_id: string }> = await stack.web.ds.query(
    'SELECT event_id FROM events WHERE project_id = $1 AND event_id = ANY($2)',
    [projectId, tags.map((t) => `${t}-0`)],
  );
  return rows.map((r) => r.event_id.replace(/-0$/, '')).sort();
}

/** Posts batches (no worker runs: their jobs stay) until one is refused; each refusal must leave the queue as it was. */
async function fillUntilRefused(tag: string) {
  const accepted: string[] = [];
  for (let i = 0; i < 200; i++) {
    const before = await jobsAdded(stack.web, 'events');
    const res = await post(`${tag}${i}`);
    if (res.status === 202) {
      accepted.push(`${tag}${i}`);
      continue;
    }
    expect(await jobsAdded(stack.web, 'events')).toBe(before);
    return { accepted, refused: res, refusedTag: `${tag}${i}` };
  }
  throw new Error('never refused');
}

async function drain() {
  const worker = await startWorker({}, { databaseUrl: env().databaseUrl, redisUrl: redis.url });
  try {
    await eventually(async () => {
      const c = await stack.web.queues.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(c).every((n) => n === 0);
    }, 60_000);
  } finally {
    await worker.close();
  }
}

describe('load shedding by bytes', () => {
  it('once Redis holds INGEST_MAX_REDIS_MEMORY, ingestion answers 503 + Retry-After and queues nothing of what it refuses', async () => {
    const { accepted, refused, refusedTag } = await fillUntilRefused('a');
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body).toMatchObject({ code: 'over_capacity', details: { reason: 'redis_memory', limit: memoryLimit } });
    // It was the bytes, not the depth: a handful of jobs wait, and Redis really holds about the limit.
    expect(stack.web.producer.queueDepth).toBeLessThan(config.ingest.maxQueueDepth);
    expect(await usedMemory()).toBeGreaterThan(memoryLimit - 2 * MiB);
    // Every accepted batch reaches PostgreSQL, the refused one never does.
    await drain();
    expect(await storedBatches([...accepted, refusedTag])).toEqual([...accepted].sort());
  });

  it('after the worker drains, completed jobs keep no payload in Redis, and ingestion is accepted again', async () => {
    await drain(); // whatever an earlier test left
    const stored = await countEvents(stack.web.ds, projectId);
    for (const tag of ['d0', 'd1']) expect((await post(tag)).status).toBe(202);
    await drain();
    expect(await countEvents(stack.web.ds, projectId)).toBe(stored + 100);
    const jobKeys = (await probe.keys(`${config.queuePrefix}:events:*`)).filter((k) => /:events:\d+(:|$)/.test(k));
    expect(jobKeys).toEqual([]);
    await eventually(async () => (await post(`resumed${Date.now()}`)).status === 202);
  });

  it('a Redis maxmemory sheds at INGEST_REDIS_MEMORY_FRACTION of it, below a larger configured limit', async () => {
    await drain();
    // Room for a few jobs between the fraction and maxmemory itself, where Redis would refuse writes (a 1 MB job takes more than 1 MB there).
    const maxmemory = Math.ceil(((await usedMemory()) + 20 * MiB) / config.ingest.redisMemoryFraction);
    await probe.config('SET', 'maxmemory', String(maxmemory));
    try {
      const expected = Math.floor(maxmemory * config.ingest.redisMemoryFraction);
      expect(expected).toBeLessThan(memoryLimit);
      const { accepted, refused } = await fillUntilRefused('m');
      expect(accepted.length).toBeGreaterThan(0);
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'over_capacity', details: { reason: 'redis_memory', limit: expected } });
    } finally {
      await probe.config('SET', 'maxmemory', '0');
    }
    await drain();
  });

  it('while Redis is slow, this process holds at most INGEST_MAX_PENDING_BYTES of accepted requests; more is refused at once', async () => {
    await drain();
    redis.service.child.kill('SIGSTOP');
    let pending: Promise<unknown> = Promise.resolve();
    try {
      const first = post('slow').then((r) => r);
      pending = first.catch(() => undefined);
      await eventually(async () => stack.web.producer.heldBytes > 0);
      const before = stack.web.producer.heldBytes;
      const second = await post('refused');
      expect(second.status).toBe(503);
      expect(second.headers['retry-after']).toMatch(/^\d+$/);
      expect(second.body).toMatchObject({ code: 'over_capacity', details: { reason: 'pending_bytes', limit: 1.5 * MiB } });
      expect(stack.web.producer.heldBytes).toBe(before);
      redis.service.child.kill('SIGCONT');
      // The first one was never refused for its bytes: it is queued, or 503 if Redis took longer than the enqueue timeout.
      expect([202, 503]).toContain((await first).status);
    } finally {
      redis.service.child.kill('SIGCONT');
      await pending;
    }
    expect(stack.web.producer.heldBytes).toBe(0);
    // Refused means never queued: drained, it is nowhere.
    await drain();
    expect(await storedBatches(['refused'])).toEqual([]);
  });

  it('the memory limit is the lower of the configured one and the fraction of maxmemory; 1 GB with neither', () => {
    const GiB = 1024 ** 3;
    expect(redisMemoryLimit(0, { max: null, fraction: 0.8 })).toBe(DEFAULT_REDIS_MEMORY_LIMIT);
    expect(DEFAULT_REDIS_MEMORY_LIMIT).toBe(GiB);
    expect(redisMemoryLimit(0, { max: 3 * GiB, fraction: 0.8 })).toBe(3 * GiB);
    expect(redisMemoryLimit(10 * GiB, { max: null, fraction: 0.8 })).toBe(8 * GiB);
    expect(redisMemoryLimit(10 * GiB, { max: 3 * GiB, fraction: 0.8 })).toBe(3 * GiB);
    expect(redisMemoryLimit(2 * GiB, { max: 3 * GiB, fraction: 0.5 })).toBe(GiB);
  });
});

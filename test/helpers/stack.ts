import type { Worker } from 'bullmq';
import type { RedisClient } from '../../src/queues/connection.ts';
import supertest from 'supertest';
import type { DataSource } from 'typeorm';
import { buildWeb, type Web } from '../../src/api/index.ts';
import { createDataSource } from '../../src/db/data-source.ts';
import { logger } from '../../src/logger.ts';
import { workerConnection } from '../../src/queues/connection.ts';
import type { QueueName } from '../../src/queues/contract.ts';
import { startWorkers, type WorkerOptions } from '../../src/workers/index.ts';

export const env = () => ({ databaseUrl: process.env.DATABASE_URL!, redisUrl: process.env.REDIS_URL! });

/** The web process, in-process, against the test PostgreSQL and Redis. */
export async function startWeb(urls = env()): Promise<{ web: Web; http: ReturnType<typeof supertest> }> {
  const web = await buildWeb(urls);
  return { web, http: supertest(web.server) };
}

export interface TestWorker {
  workers: Worker[];
  ds: DataSource;
  redis: RedisClient;
  close(): Promise<void>;
}

/** Listens on a free loopback port (for clients that need a real URL, e.g. fetch with a raw body). */
export async function listen(web: Web): Promise<string> {
  if (!web.server.listening) await new Promise<void>((resolve) => web.server.listen(0, '127.0.0.1', resolve));
  const { port } = web.server.address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

/** The worker process's consumers, in-process. */
export async function startWorker(opts: WorkerOptions = {}, urls = env()): Promise<TestWorker> {
  const ds = createDataSource({ url: urls.databaseUrl, poolSize: 4 });
  await ds.initialize();
  const redis = workerConnection(urls.redisUrl);
  const workers = startWorkers(redis, ds, logger, opts);
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  return {
    workers,
    ds,
    redis,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await redis.quit();
      await ds.destroy();
    },
  };
}

/** Polls until `fn` returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000, stepMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

export async function countEvents(ds: DataSource, projectId: number): Promise<number> {
  const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM events WHERE project_id = $1', [projectId]);
  return n;
}

/**
 * How many jobs were ever added to a queue (BullMQ's job id counter). Unlike counts of
 * the jobs kept, it never goes down when a worker completes (and removes) one: "nothing
 * was queued" is this number unchanged.
 */
export async function jobsAdded(web: Web, queue: QueueName): Promise<number> {
  return Number(await web.redis.get(web.queues[queue].keys.id)) || 0;
}

import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../../../queues/connection.ts';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import { registry } from '../../../metrics.ts';
import type { QueueName } from '../../../queues/contract.ts';
import { queueStats, type QueueStats } from '../../../queues/health.ts';
import { withTimeout } from '../../../queues/producer.ts';
import { config } from '../../../config.ts';
import { registerStorageMetrics } from '../../../domain/quotas/index.ts';
import './schema.ts'; // OpenAPI registration

async function check(fn: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(fn(), 2000);
    return 'ok';
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Queue gauges read from Redis at scrape time, so any web process reports the whole system. */
function registerQueueMetrics(queues: Record<QueueName, Queue>): void {
  const names = ['faultline_queue_jobs', 'faultline_ingest_lag_seconds', 'faultline_queue_jobs_processed_total'];
  for (const name of names) registry.removeSingleMetric(name); // one set per process, even when an app is built twice (tests)

  let latest: Promise<QueueStats[]> | null = null;
  // The three gauges share one Redis round of reads per scrape.
  const stats = () =>
    (latest ??= queueStats(queues)
      .catch(() => [])
      .finally(() => setTimeout(() => (latest = null), 100)));

  new Gauge({
    name: names[0],
    help: 'Jobs per queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const s of await stats()) for (const [state, n] of Object.entries(s.counts)) this.set({ queue: s.queue, state }, n);
    },
  });
  new Gauge({
    name: names[1],
    help: 'Age in seconds of the oldest job waiting in the queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      for (const s of await stats()) this.set({ queue: s.queue }, s.lagSeconds);
    },
  });
  new Gauge({
    name: names[2],
    help: 'Jobs processed by all workers, by outcome (from BullMQ metrics)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [registry],
    async collect() {
      for (const s of await stats()) {
        this.set({ queue: s.queue, outcome: 'completed' }, s.processedTotal);
        this.set({ queue: s.queue, outcome: 'failed' }, s.failedTotal);
      }
    },
  });
}

/** The data folders whose volumes /metrics and the dashboard report. */
export const dataVolumes = () => ({ dumps: config.dumpsDir, artifacts: config.artifacts.dir, data: config.dataDir });

export function opsRoutes(deps: { ds: DataSource; redis: RedisClient; queues: Record<QueueName, Queue> }): Router {
  const r = Router();
  registerQueueMetrics(deps.queues);
  registerStorageMetrics(deps.ds, dataVolumes());

  /** Liveness: the process answers. */
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  /** Readiness: PostgreSQL and Redis both answer. */
  r.get('/readyz', async (_req, res) => {
    const [postgres, redis] = await Promise.all([check(() => deps.ds.query('SELECT 1')), check(() => deps.redis.ping())]);
    const ok = postgres === 'ok' && redis === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { postgres, redis } });
  });

  r.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });

  return r;
}

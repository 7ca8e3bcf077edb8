import { MetricsTime, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { JOBS, jobsOf, QUEUE_NAMES, type JobName, type QueueName } from '../queues/contract.ts';
import type { Publisher } from '../live/channel.ts';
import { storeEventsProcessor } from './storeEvents.ts';
import { storeLlmLogsProcessor } from './storeLlmLogs.ts';
import { storeSessionsProcessor } from './storeSessions.ts';
import { dumpStores, type DumpStores } from '../storage/index.ts';
import { archiveDumpsProcessor } from './archiveDumps.ts';
import { expireDumpsProcessor } from './expireDumps.ts';
import { processDumpProcessor } from './processDump.ts';
import { pruneRefreshTokensProcessor } from './pruneRefreshTokens.ts';
import { pruneTriageProcessor } from './pruneTriage.ts';
import { artifactStore } from '../storage/index.ts';

type Processor = (job: Job) => Promise<unknown>;

/** Every job in the contract has exactly one handler here; startup fails otherwise. */
export function handlers(ds: DataSource, log: Logger, live?: Publisher, stores: DumpStores = dumpStores()): Record<JobName, Processor> {
  return {
    'store-events': storeEventsProcessor(ds, log, live),
    'store-llm-logs': storeLlmLogsProcessor(ds, log),
    'store-sessions': storeSessionsProcessor(ds, log),
    'process-dump': processDumpProcessor(ds, stores, log),
    'archive-dumps': archiveDumpsProcessor(ds, stores, log),
    'expire-dumps': expireDumpsProcessor(ds, stores, log),
    'prune-refresh-tokens': pruneRefreshTokensProcessor(ds, log),
    'prune-triage': pruneTriageProcessor(ds, artifactStore(), log),
  };
}

export function assertHandlers(h: Record<string, Processor>): void {
  const missing = (Object.keys(JOBS) as JobName[]).filter((n) => typeof h[n] !== 'function');
  const unknown = Object.keys(h).filter((n) => !(n in JOBS));
  if (missing.length || unknown.length) {
    throw new Error(`worker handlers out of step with the queue contract: missing [${missing}] unknown [${unknown}]`);
  }
}

export interface WorkerOptions {
  concurrency?: number;
  stalledIntervalMs?: number;
  lockDurationMs?: number;
}

/** One BullMQ Worker per queue, dispatching by job name. */
export function startWorkers(connection: Redis, ds: DataSource, log: Logger, opts: WorkerOptions = {}): Worker[] {
  // The live tail is published on the workers' own connection (PUBLISH is not a blocking command).
  const h = handlers(ds, log, connection);
  assertHandlers(h);
  return QUEUE_NAMES.map((queue: QueueName) => {
    const names = new Set<string>(jobsOf(queue));
    const worker = new Worker(
      queue,
      async (job) => {
        if (!names.has(job.name)) throw new Error(`no handler for job "${job.name}" on queue "${queue}"`);
        return h[job.name as JobName](job);
      },
      {
        connection,
        prefix: config.queuePrefix,
        concurrency: opts.concurrency ?? config.worker.concurrency,
        stalledInterval: opts.stalledIntervalMs ?? config.worker.stalledIntervalMs,
        lockDuration: opts.lockDurationMs ?? config.worker.lockDurationMs,
        // Per-minute completed/failed counts in Redis: what /metrics and the admin read.
        metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      },
    );
    worker.on('failed', (job, err) =>
      log.warn({ queue, jobId: job?.id, job: job?.name, attempts: job?.attemptsMade, err: err.message }, 'job failed'),
    );
    worker.on('error', (err) => log.error({ queue, err: err.message }, 'worker error'));
    return worker;
  });
}

import { MetricsTime, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../queues/connection.ts';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { JOBS, jobsOf, QUEUE_NAMES, type JobName, type QueueName } from '../queues/contract.ts';
import type { Publisher } from '../live/channel.ts';
import { storeEventsProcessor } from './storeEvents.ts';
import { storeLlmLogsProcessor } from './storeLlmLogs.ts';
import { storeSpansProcessor } from './storeSpans.ts';
import { expireSpansProcessor } from './expireSpans.ts';
import { storeSessionsProcessor } from './storeSessions.ts';
import { artifactStore, dumpStores, type DumpStores } from '../storage/index.ts';
import { archiveDumpsProcessor } from './archiveDumps.ts';
import { expireDumpsProcessor } from './expireDumps.ts';
import { processDumpProcessor } from './processDump.ts';
import { pruneRefreshTokensProcessor } from './pruneRefreshTokens.ts';
import { createQueues } from '../queues/producer.ts';
import { alertJobs } from '../queues/alertJobs.ts';
import type { AlertJobs } from '../domain/alerts/jobs.ts';
import { AlertTaps } from '../domain/alerts/taps.ts';
import { storeCheckInsProcessor } from './storeCheckIns.ts';
import { processAlertSignalsProcessor } from './processAlertSignals.ts';
import { evaluateAlertsProcessor } from './evaluateAlerts.ts';
import { deliverNotificationProcessor, RetryDelivery } from './deliverNotification.ts';
import { scheduleAlerts } from './alertSchedules.ts';
import { scheduleDumpMaintenance } from './dumpSchedules.ts';
import { scheduleHousekeeping } from './housekeepingSchedules.ts';
import { pruneTriageProcessor } from './pruneTriage.ts';
import { pruneAlertsProcessor } from './pruneAlerts.ts';
import { pruneAuditLogProcessor } from './pruneAuditLog.ts';
import { defaultRuleBook } from '../domain/scrubbing/book.ts';
import { scrubFailedJob } from './scrubFailedJob.ts';
import { ensurePartitionsAtStartup, maintainPartitionsProcessor } from './maintainPartitions.ts';

type Processor = (job: Job) => Promise<unknown>;

/** What the alert processors need: the jobs they hand work on to, and the store paths' taps (counters, signals). */
export interface Alerting {
  jobs: AlertJobs;
  taps: AlertTaps;
}

/** Every job in the contract has exactly one handler here; startup fails otherwise. */
export function handlers(
  ds: DataSource,
  log: Logger,
  live: Publisher | undefined,
  stores: DumpStores,
  alerting: Alerting,
): Record<JobName, Processor> {
  const { jobs, taps } = alerting;
  return {
    'store-events': storeEventsProcessor(ds, log, live, taps),
    'store-llm-logs': storeLlmLogsProcessor(ds, log, taps),
    'process-dump': processDumpProcessor(ds, stores, log, jobs),
    'archive-dumps': archiveDumpsProcessor(ds, stores, log),
    'expire-dumps': expireDumpsProcessor(ds, stores, log),
    'prune-refresh-tokens': pruneRefreshTokensProcessor(ds, log),
    'store-check-ins': storeCheckInsProcessor(ds, jobs, log),
    'process-alert-signals': processAlertSignalsProcessor(ds, jobs, log),
    'evaluate-alerts': evaluateAlertsProcessor(ds, jobs, taps, log),
    'deliver-notification': deliverNotificationProcessor(ds, log),
    'store-spans': storeSpansProcessor(ds, log),
    'expire-spans': expireSpansProcessor(ds, log),
    'store-sessions': storeSessionsProcessor(ds, log),
    'prune-triage': pruneTriageProcessor(ds, artifactStore(), log),
    'prune-alerts': pruneAlertsProcessor(ds, log),
    'prune-audit-log': pruneAuditLogProcessor(ds, log),
    'maintain-partitions': maintainPartitionsProcessor(ds, log),
  };
}

/**
 * Deliveries back off exponentially (with ±20% jitter, so a receiver coming back is not
 * hit by every retry at once), or as long as the receiver's Retry-After asked.
 */
export function notificationBackoff(baseMs: number) {
  return (attemptsMade: number, _type?: string, err?: Error): number => {
    if (err instanceof RetryDelivery && err.retryAfterMs !== null) return err.retryAfterMs;
    const ms = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), 3_600_000);
    return Math.round(ms * (0.8 + Math.random() * 0.4));
  };
}

export function assertHandlers(h: Record<string, Processor>): void {
  const missing = (Object.keys(JOBS) as JobName[]).filter((n) => typeof h[n] !== 'function');
  const unknown = Object.keys(h).filter((n) => !(n in JOBS));
  if (missing.length || unknown.length) {
    throw new Error(`worker handlers out of step with the queue contract: missing [${missing}] unknown [${unknown}]`);
  }
}

/**
 * Every job's payload is checked against the contract here, once, before its processor
 * runs: a payload that does not parse can never succeed, so it fails unrecoverably (and
 * stays in the failed set with its data). Processors then read `job.data` as parsed.
 */
export function validated(job: Job): Job {
  const parsed = JOBS[job.name as JobName].payload.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.message.slice(0, 500)}`);
  job.data = parsed.data;
  return job;
}

export interface WorkerOptions {
  concurrency?: number;
  stalledIntervalMs?: number;
  lockDurationMs?: number;
}

/** One BullMQ Worker per queue, dispatching by job name. */
export function startWorkers(connection: RedisClient, ds: DataSource, log: Logger, opts: WorkerOptions = {}): Worker[] {
  // The live tail is published on the workers' own connection (PUBLISH is not a blocking command),
  // and so are the jobs the workers hand on (alerts, notifications) and the alert counters.
  const jobs = alertJobs(createQueues(connection, config.queuePrefix));
  const taps = new AlertTaps(ds, connection, jobs, log, { prefix: config.queuePrefix, ruleCacheMs: config.alerts.ruleCacheMs });
  const h = handlers(ds, log, connection, dumpStores(), { jobs, taps });
  assertHandlers(h);
  return QUEUE_NAMES.map((queue: QueueName) => {
    const names = new Set<string>(jobsOf(queue));
    const worker = new Worker(
      queue,
      async (job) => {
        if (!names.has(job.name)) throw new Error(`no handler for job "${job.name}" on queue "${queue}"`);
        return h[job.name as JobName](validated(job));
      },
      {
        connection,
        prefix: config.queuePrefix,
        concurrency: opts.concurrency ?? config.worker.concurrency,
        stalledInterval: opts.stalledIntervalMs ?? config.worker.stalledIntervalMs,
        lockDuration: opts.lockDurationMs ?? config.worker.lockDurationMs,
        // Per-minute completed/failed counts in Redis: what /metrics and the admin read.
        metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
        ...(queue === 'notifications' ? { settings: { backoffStrategy: notificationBackoff(config.alerts.deliveryBackoffMs) } } : {}),
      },
    );
    const scrubbing = defaultRuleBook(ds);
    worker.on('failed', (job, err) => {
      log.warn({ queue, jobId: job?.id, job: job?.name, attempts: job?.attemptsMade, err: err.message }, 'job failed');
      // What stays in the failed set is scrubbed (src/workers/scrubFailedJob.ts).
      if (job && queue === 'events')
        scrubFailedJob(job, err, scrubbing).catch((e: Error) =>
          log.error({ queue, jobId: job.id, err: e.message }, 'could not scrub a failed job'),
        );
    });
    worker.on('error', (err) => log.error({ queue, err: err.message }, 'worker error'));
    return worker;
  });
}

/** The worker side of a process: every consumer, and every repeatable job registered (each run happens once, whatever the number of workers). */
export async function startConsumers(connection: RedisClient, ds: DataSource, log: Logger, opts: WorkerOptions = {}): Promise<Worker[]> {
  // Before consuming a backlog after downtime, today's partitions exist (else rows would pile into DEFAULT).
  await ensurePartitionsAtStartup(ds, log);
  const workers = startWorkers(connection, ds, log, opts);
  await scheduleDumpMaintenance(connection);
  await scheduleHousekeeping(connection);
  await scheduleAlerts(connection);
  return workers;
}

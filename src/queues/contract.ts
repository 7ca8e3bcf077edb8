/**
 * The queue contract: every queue, job name and payload schema lives here, and both
 * producers (src/api) and consumers (src/workers) import it. Payload fields are
 * stored data — add new ones as optional, never rename a job in place.
 */
import type { DefaultJobOptions } from 'bullmq';
import { z } from 'zod';
import { config } from '../config.ts';
import { EventRecordSchema } from '../domain/events/record.ts';
import { LlmLogRecordSchema } from '../domain/logs/llmRecord.ts';
import { CheckInRecordSchema } from '../domain/alerts/checkInRecord.ts';
import { SpanRecordSchema } from '../domain/spans/record.ts';
import { SessionMarkSchema } from '../domain/sessions/normalize.ts';
import { unpack } from './pack.ts';

export const QUEUE_NAMES = ['events', 'dumps', 'housekeeping', 'alerts', 'notifications'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Job name → its queue and payload. A job carries a group of items: one job, one multi-row insert. */
export const JOBS = {
  'store-events': {
    queue: 'events',
    payload: z.preprocess(unpack, z.object({ items: z.array(EventRecordSchema).min(1) })),
  },
  // LLM calls (DataIdea) share the events queue: same ingest path, same load shedding.
  'store-llm-logs': {
    queue: 'events',
    payload: z.preprocess(unpack, z.object({ items: z.array(LlmLogRecordSchema).min(1) })),
  },
  // Spans (OTLP traces, Sentry transactions and span items), on the events queue for the same reasons.
  'store-spans': {
    queue: 'events',
    payload: z.preprocess(unpack, z.object({ items: z.array(SpanRecordSchema).min(1) })),
  },
  // Release health (Sentry session / sessions items): counted once per session and mark.
  'store-sessions': {
    queue: 'events',
    payload: z.object({ items: z.array(SessionMarkSchema).min(1) }),
  },
  // Crash dumps: one job per stored dump (verify its checksum, read minidump facts)…
  'process-dump': {
    queue: 'dumps',
    payload: z.object({
      dump_id: z.uuid(),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
    }),
  },
  // …and two repeatable maintenance jobs (schedules in config: DUMPS_ARCHIVE_SCHEDULE, DUMPS_RETENTION_SCHEDULE).
  'archive-dumps': {
    queue: 'dumps',
    // Both optional: a manual run may archive sooner, or only some projects.
    payload: z.object({
      older_than_days: z.number().int().min(0).optional(),
      project_ids: z.array(z.number().int().positive()).optional(),
    }),
  },
  'expire-dumps': {
    queue: 'dumps',
    payload: z.object({
      orphan_grace_ms: z.number().int().min(0).optional(),
      project_ids: z.array(z.number().int().positive()).optional(),
    }),
  },
  // Housekeeping (repeatable, REFRESH_TOKEN_PRUNE_SCHEDULE): delete refresh tokens long expired.
  'prune-refresh-tokens': {
    queue: 'housekeeping',
    // Both optional: the defaults are in src/domain/accounts/sessions.ts.
    payload: z.object({ grace_ms: z.number().int().min(0).optional(), batch_size: z.number().int().min(1).max(100_000).optional() }),
  },
  // Alerts (src/domain/alerts). Cron check-ins, from the Sentry envelope and the HTTP ping, durably
  // queued before the 2xx like events; check_in_id assigned at the edge, so storing is idempotent.
  'store-check-ins': {
    queue: 'alerts',
    payload: z.object({ items: z.array(CheckInRecordSchema).min(1) }),
  },
  // Issues the store statement created or reopened (its alert_signals outbox): issue.new / issue.regressed.
  // Without ids: every signal still waiting (the sweeper's call).
  'process-alert-signals': {
    queue: 'alerts',
    payload: z.object({ signal_ids: z.array(z.string().regex(/^\d+$/)).max(10_000).optional() }),
  },
  // Repeatable (ALERT_EVALUATION_INTERVAL_MS): windowed rules, missed and timed-out cron runs,
  // leftovers of a crash (signals and notifications never queued). `now` evaluates as of another time.
  'evaluate-alerts': {
    queue: 'alerts',
    payload: z.object({ now: z.iso.datetime().optional() }),
  },
  // One notification to one channel; retried with backoff (Retry-After wins), 4xx but 429 is final.
  'deliver-notification': {
    queue: 'notifications',
    payload: z.object({ notification_id: z.string().regex(/^\d+$/) }),
  },
  // Housekeeping (repeatable, SPANS_RETENTION_SCHEDULE): delete spans older than their project's retention_days.
  'expire-spans': {
    queue: 'housekeeping',
    payload: z.object({ batch_size: z.number().int().min(1).max(100_000).optional() }),
  },
  // Housekeeping (repeatable, PARTITIONS_SCHEDULE): partitions of events, llm_logs and spans created
  // PARTITIONS_AHEAD_DAYS ahead, rows of DEFAULT moved out, retention (drop whole partitions past the
  // instance max, batched deletes for shorter project retention). `now` runs it as of another time.
  'maintain-partitions': {
    queue: 'housekeeping',
    payload: z.object({
      now: z.iso.datetime().optional(),
      ahead_days: z.number().int().min(1).max(366).optional(),
      batch_size: z.number().int().min(1).max(100_000).optional(),
    }),
  },
  // Housekeeping (repeatable, TRIAGE_PRUNE_SCHEDULE): session marks, hourly issue counters, unassembled chunks.
  'prune-triage': {
    queue: 'housekeeping',
    payload: z.object({
      session_mark_max_age_ms: z.number().int().min(0).optional(),
      hourly_max_age_ms: z.number().int().min(0).optional(),
      chunk_max_age_ms: z.number().int().min(0).optional(),
    }),
  },
  // Housekeeping (repeatable, ALERT_PRUNE_SCHEDULE): alert history past ALERT_HISTORY_RETENTION_DAYS.
  'prune-alerts': {
    queue: 'housekeeping',
    payload: z.object({ days: z.number().int().min(1).optional(), batch_size: z.number().int().min(1).max(100_000).optional() }),
  },
  // Housekeeping (repeatable, AUDIT_LOG_PRUNE_SCHEDULE): audit entries past AUDIT_LOG_RETENTION_DAYS — the log's only delete path.
  'prune-audit-log': {
    queue: 'housekeeping',
    payload: z.object({ retention_days: z.number().int().min(0).optional(), batch_size: z.number().int().min(1).max(100_000).optional() }),
  },
} as const satisfies Record<string, { queue: QueueName; payload: z.ZodType }>;

export type JobName = keyof typeof JOBS;

/**
 * The record-carrying jobs whose fields repeat most (src/queues/pack.ts): queued with the
 * fields every record shares written once; their schemas unpack before validating.
 */
export const PACKED_JOBS: ReadonlySet<JobName> = new Set<JobName>(['store-events', 'store-llm-logs', 'store-spans']);
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;

export function jobsOf(queue: QueueName): JobName[] {
  return (Object.keys(JOBS) as JobName[]).filter((n) => JOBS[n].queue === queue);
}

/**
 * Retry policy, set once per queue. Failed jobs are kept (removeOnFail: false) so they
 * stay visible and re-runnable; completed ones are trimmed. A completed events job is
 * removed at once: it holds its whole batch (megabytes), its rows are in PostgreSQL, and
 * the completed counts live in the workers' BullMQ metrics, not in kept jobs.
 */
export const QUEUE_JOB_DEFAULTS: Record<QueueName, DefaultJobOptions> = {
  events: {
    attempts: config.worker.attempts,
    backoff: { type: 'exponential', delay: config.worker.backoffMs },
    removeOnComplete: true,
    removeOnFail: false,
  },
  dumps: {
    attempts: config.worker.attempts,
    backoff: { type: 'exponential', delay: config.worker.backoffMs },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: false,
  },
  alerts: {
    attempts: config.worker.attempts,
    backoff: { type: 'exponential', delay: config.worker.backoffMs },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: false,
  },
  // Deliveries: the receiver's Retry-After, else exponential (see NOTIFICATION_BACKOFF in src/workers/index.ts).
  // Completed jobs are kept a day: their ids (notification-<id>) keep a re-enqueued notification from being queued twice.
  notifications: {
    attempts: config.alerts.deliveryAttempts,
    backoff: { type: 'retry-after', delay: config.alerts.deliveryBackoffMs },
    removeOnComplete: { age: 86400, count: 10_000 },
    removeOnFail: false,
  },
  // Scheduled runs: a few retries, then the next occurrence starts over anyway.
  housekeeping: {
    attempts: 3,
    backoff: { type: 'exponential', delay: config.worker.backoffMs },
    removeOnComplete: { age: 7 * 86400, count: 100 },
    removeOnFail: false,
  },
};

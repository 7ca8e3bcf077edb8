import { Queue } from 'bullmq';
import type { RedisClient } from '../queues/connection.ts';
import { config } from '../config.ts';
import { QUEUE_JOB_DEFAULTS, type JobName } from '../queues/contract.ts';

/**
 * The housekeeping queue's repeatable jobs, declared like the dumps' (dumpSchedules.ts):
 * upserting a scheduler is idempotent, so every worker process does it at startup, a
 * changed schedule replaces the old one, and each occurrence runs once.
 */
export async function scheduleHousekeeping(
  connection: RedisClient,
  schedules: {
    refreshTokenPruneSchedule: string;
    spansRetentionSchedule: string;
    triagePruneSchedule: string;
    alertPruneSchedule: string;
    auditLogPruneSchedule: string;
    partitionsSchedule: string;
  } = config.housekeeping,
): Promise<void> {
  const queue = new Queue('housekeeping', { connection, prefix: config.queuePrefix });
  try {
    const jobs: Array<[JobName, string]> = [
      ['prune-refresh-tokens', schedules.refreshTokenPruneSchedule],
      ['expire-spans', schedules.spansRetentionSchedule],
      ['prune-triage', schedules.triagePruneSchedule],
      ['prune-alerts', schedules.alertPruneSchedule],
      ['prune-audit-log', schedules.auditLogPruneSchedule],
      ['maintain-partitions', schedules.partitionsSchedule],
    ];
    for (const [name, pattern] of jobs) {
      await queue.upsertJobScheduler(name, { pattern }, { name, data: {}, opts: QUEUE_JOB_DEFAULTS.housekeeping });
    }
  } finally {
    await queue.close();
  }
}

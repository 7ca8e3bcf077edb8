import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { config } from '../config.ts';
import { QUEUE_JOB_DEFAULTS } from '../queues/contract.ts';

/**
 * The housekeeping queue's repeatable jobs, declared like the dumps' (dumpSchedules.ts):
 * upserting a scheduler is idempotent, so every worker process does it at startup, a
 * changed schedule replaces the old one, and each occurrence runs once.
 */
export async function scheduleHousekeeping(
  connection: Redis,
  schedules: { refreshTokenPruneSchedule: string; spansRetentionSchedule: string; triagePruneSchedule: string; partitionsSchedule: string } = config.housekeeping,
): Promise<void> {
  const queue = new Queue('housekeeping', { connection, prefix: config.queuePrefix });
  try {
    await queue.upsertJobScheduler(
      'prune-refresh-tokens',
      { pattern: schedules.refreshTokenPruneSchedule },
      { name: 'prune-refresh-tokens', data: {}, opts: QUEUE_JOB_DEFAULTS.housekeeping },
    );
    await queue.upsertJobScheduler(
      'expire-spans',
      { pattern: schedules.spansRetentionSchedule },
      { name: 'expire-spans', data: {}, opts: QUEUE_JOB_DEFAULTS.housekeeping },
    );
    await queue.upsertJobScheduler(
      'prune-triage',
      { pattern: schedules.triagePruneSchedule },
      { name: 'prune-triage', data: {}, opts: QUEUE_JOB_DEFAULTS.housekeeping },
    );
    await queue.upsertJobScheduler(
      'maintain-partitions',
      { pattern: schedules.partitionsSchedule },
      { name: 'maintain-partitions', data: {}, opts: QUEUE_JOB_DEFAULTS.housekeeping },
    );
  } finally {
    await queue.close();
  }
}

import { Queue } from 'bullmq';
import type { RedisClient } from '../queues/connection.ts';
import { config } from '../config.ts';
import { QUEUE_JOB_DEFAULTS } from '../queues/contract.ts';

/**
 * The dumps queue's repeatable maintenance jobs. Upserting a scheduler is idempotent,
 * so every worker process does it at startup and a changed schedule in the
 * configuration replaces the old one; BullMQ runs each occurrence once, whatever the
 * number of workers.
 */
export async function scheduleDumpMaintenance(
  connection: RedisClient,
  schedules: { archiveSchedule: string; retentionSchedule: string } = config.dumps,
): Promise<void> {
  const queue = new Queue('dumps', { connection, prefix: config.queuePrefix });
  try {
    // A failed run is retried a few times; the next scheduled run starts over anyway.
    const opts = { ...QUEUE_JOB_DEFAULTS.dumps, attempts: 3 };
    await queue.upsertJobScheduler('archive-dumps', { pattern: schedules.archiveSchedule }, { name: 'archive-dumps', data: {}, opts });
    await queue.upsertJobScheduler('expire-dumps', { pattern: schedules.retentionSchedule }, { name: 'expire-dumps', data: {}, opts });
  } finally {
    await queue.close();
  }
}

import { Queue } from 'bullmq';
import type { RedisClient } from '../queues/connection.ts';
import { config } from '../config.ts';
import { QUEUE_JOB_DEFAULTS } from '../queues/contract.ts';

/**
 * The alerts queue's repeatable evaluation (windowed rules, cron monitors, the crash
 * sweep), declared like the other schedulers: idempotent upsert at every worker start,
 * each occurrence runs once. No retries: the next run, seconds later, is the retry.
 */
export async function scheduleAlerts(connection: RedisClient, everyMs: number = config.alerts.evaluationIntervalMs): Promise<void> {
  const queue = new Queue('alerts', { connection, prefix: config.queuePrefix });
  try {
    await queue.upsertJobScheduler(
      'evaluate-alerts',
      { every: everyMs },
      {
        name: 'evaluate-alerts',
        data: {},
        opts: { ...QUEUE_JOB_DEFAULTS.alerts, attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      },
    );
  } finally {
    await queue.close();
  }
}

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { recordCheckIn } from '../domain/alerts/checkIns.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import type { AlertJobs } from '../domain/alerts/jobs.ts';

/**
 * A check-in for a monitor that does not exist yet is retried this many times before it
 * is dropped: an SDK sends its in_progress (with monitor_config, creating the monitor) and
 * its ok/error in two envelopes, and their jobs may run in either order.
 */
const UNKNOWN_MONITOR_RETRIES = 4;

/** `store-check-ins`: cron check-ins (Sentry `check_in` items, the HTTP ping), one by one; each is idempotent. */
export function storeCheckInsProcessor(ds: DataSource, jobs: AlertJobs, log: Logger) {
  return async (job: Job): Promise<Record<string, number>> => {
    const payload = job.data as JobPayload<'store-check-ins'>;
    const outcomes: Record<string, number> = {};
    const unknown: string[] = [];
    for (const item of payload.items) {
      const outcome = await recordCheckIn(ds, jobs, item);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (outcome === 'unknown_monitor') unknown.push(item.monitor_slug);
    }
    if (unknown.length) {
      // The rest of the job is recorded; a retry records it again as a no-op.
      if (job.attemptsMade < UNKNOWN_MONITOR_RETRIES)
        throw new Error(`no monitor ${unknown.join(', ')} yet (its creating check-in may still be queued)`);
      log.info({ jobId: job.id, monitors: unknown }, 'check-ins for monitors that do not exist (and no monitor_config): dropped');
    }
    return outcomes;
  };
}

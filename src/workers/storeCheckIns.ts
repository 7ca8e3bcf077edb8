import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { recordCheckIn } from '../domain/alerts/monitors.ts';
import type { Logger } from '../logger.ts';
import { JOBS, type QueueName } from '../queues/contract.ts';

/** `store-check-ins`: cron check-ins (Sentry `check_in` items, the HTTP ping), one by one; each is idempotent. */
export function storeCheckInsProcessor(ds: DataSource, queues: Record<QueueName, Queue>, log: Logger) {
  return async (job: Job): Promise<Record<string, number>> => {
    const parsed = JOBS['store-check-ins'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid store-check-ins payload: ${parsed.error.message.slice(0, 500)}`);
    const outcomes: Record<string, number> = {};
    for (const item of parsed.data.items) {
      const outcome = await recordCheckIn(ds, queues, item);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (outcome === 'unknown_monitor') log.info({ jobId: job.id, project: item.project_id, monitor: item.monitor_slug }, 'check-in for a monitor that does not exist (and no monitor_config): dropped');
    }
    return outcomes;
  };
}

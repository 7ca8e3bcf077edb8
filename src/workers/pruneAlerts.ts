import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import { pruneAlertHistory } from '../domain/alerts/sweep.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';

/** `prune-alerts` (repeatable, ALERT_PRUNE_SCHEDULE): alert history older than ALERT_HISTORY_RETENTION_DAYS. Idempotent. */
export function pruneAlertsProcessor(ds: DataSource, log: Logger) {
  return async (job: Job) => {
    const parsed = JOBS['prune-alerts'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid prune-alerts payload: ${parsed.error.message.slice(0, 500)}`);
    const result = await pruneAlertHistory(ds, parsed.data.days ?? config.housekeeping.alertHistoryDays, parsed.data.batch_size);
    if (Object.values(result).some((n) => n > 0)) log.info({ jobId: job.id, ...result }, 'alert history pruned');
    return result;
  };
}

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { processSignals } from '../domain/alerts/signals.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import type { AlertJobs } from '../domain/alerts/jobs.ts';

/** `process-alert-signals`: issue.new / issue.regressed for the issues a stored batch created or reopened. */
export function processAlertSignalsProcessor(ds: DataSource, jobs: AlertJobs, log: Logger) {
  return async (job: Job): Promise<{ processed: number; fired: number }> => {
    const payload = job.data as JobPayload<'process-alert-signals'>;
    const result = await processSignals(ds, jobs, payload.signal_ids);
    if (result.fired) log.debug({ jobId: job.id, ...result }, 'alert signals processed');
    return result;
  };
}

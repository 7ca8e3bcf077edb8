import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { processSignals } from '../domain/alerts/signals.ts';
import type { Logger } from '../logger.ts';
import { JOBS, type QueueName } from '../queues/contract.ts';

/** `process-alert-signals`: issue.new / issue.regressed for the issues a stored batch created or reopened. */
export function processAlertSignalsProcessor(ds: DataSource, queues: Record<QueueName, Queue>, log: Logger) {
  return async (job: Job): Promise<{ processed: number; fired: number }> => {
    const parsed = JOBS['process-alert-signals'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid process-alert-signals payload: ${parsed.error.message.slice(0, 500)}`);
    const result = await processSignals(ds, queues, parsed.data.signal_ids);
    if (result.fired) log.debug({ jobId: job.id, ...result }, 'alert signals processed');
    return result;
  };
}

import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { expireSpans } from '../domain/spans/retention.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';

/** `expire-spans` (repeatable, SPANS_RETENTION_SCHEDULE): spans past their project's retention_days go. */
export function expireSpansProcessor(ds: DataSource, log: Logger) {
  return async (job: Job): Promise<{ deleted: number }> => {
    const parsed = JOBS['expire-spans'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid expire-spans payload: ${parsed.error.message.slice(0, 500)}`);
    const deleted = await expireSpans(ds, { batchSize: parsed.data.batch_size });
    if (deleted) log.info({ jobId: job.id, deleted }, 'expired spans deleted');
    return { deleted };
  };
}

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { expireSpans } from '../domain/spans/retention.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';

/** `expire-spans` (repeatable, SPANS_RETENTION_SCHEDULE): spans past their project's retention_days go. */
export function expireSpansProcessor(ds: DataSource, log: Logger) {
  return async (job: Job): Promise<{ deleted: number }> => {
    const payload = job.data as JobPayload<'expire-spans'>;
    const deleted = await expireSpans(ds, { batchSize: payload.batch_size });
    if (deleted) log.info({ jobId: job.id, deleted }, 'expired spans deleted');
    return { deleted };
  };
}

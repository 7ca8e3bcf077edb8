import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { processDump } from '../domain/dumps/process.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';
import type { DumpStores } from '../storage/index.ts';

/** `process-dump`: verify one dump's checksum and read its minidump facts into `info`. */
export function processDumpProcessor(ds: DataSource, stores: DumpStores, log: Logger) {
  return async (job: Job): Promise<{ outcome: string }> => {
    const parsed = JOBS['process-dump'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid process-dump payload: ${parsed.error.message.slice(0, 500)}`);
    const outcome = await processDump({ ds, stores }, parsed.data.dump_id, parsed.data.sha256);
    log.debug({ jobId: job.id, dump: parsed.data.dump_id, outcome }, 'dump processed');
    return { outcome };
  };
}

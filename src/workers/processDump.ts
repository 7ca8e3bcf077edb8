import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import { dumpReceived } from '../domain/alerts/dumps.ts';
import type { DataSource } from 'typeorm';
import { processDump } from '../domain/dumps/process.ts';
import type { Logger } from '../logger.ts';
import { JOBS, type QueueName } from '../queues/contract.ts';
import type { DumpStores } from '../storage/index.ts';

/** `process-dump`: verify one dump's checksum and read its minidump facts into `info`. */
export function processDumpProcessor(ds: DataSource, stores: DumpStores, log: Logger, queues?: Record<QueueName, Queue>) {
  return async (job: Job): Promise<{ outcome: string }> => {
    const parsed = JOBS['process-dump'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid process-dump payload: ${parsed.error.message.slice(0, 500)}`);
    const outcome = await processDump({ ds, stores }, parsed.data.dump_id, parsed.data.sha256);
    log.debug({ jobId: job.id, dump: parsed.data.dump_id, outcome }, 'dump processed');
    // dump.received rules, now that the crash reason and module are known (idempotent per dump).
    if (queues && outcome === 'processed') await dumpReceived(ds, queues, parsed.data.dump_id);
    return { outcome };
  };
}

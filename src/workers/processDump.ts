import type { Job } from 'bullmq';
import { dumpReceived } from '../domain/alerts/dumps.ts';
import type { DataSource } from 'typeorm';
import { processDump } from '../domain/dumps/process.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import type { DumpStores } from '../storage/index.ts';
import type { AlertJobs } from '../domain/alerts/jobs.ts';
import { scrubStoredDump } from '../domain/dumps/scrub.ts';
import { defaultRuleBook } from '../domain/scrubbing/book.ts';
import type { RuleBook } from '../domain/scrubbing/records.ts';

/** `process-dump`: verify one dump's checksum and read its minidump facts into `info`. */
export function processDumpProcessor(
  ds: DataSource,
  stores: DumpStores,
  log: Logger,
  jobs?: AlertJobs,
  scrubbing: RuleBook | null = defaultRuleBook(ds),
) {
  return async (job: Job): Promise<{ outcome: string }> => {
    const payload = job.data as JobPayload<'process-dump'>;
    const outcome = await processDump({ ds, stores }, payload.dump_id, payload.sha256);
    // Label and minidump facts lose their secrets before the alerts (and anyone) read them.
    if (scrubbing && outcome === 'processed') await scrubStoredDump(ds, scrubbing, payload.dump_id);
    log.debug({ jobId: job.id, dump: payload.dump_id, outcome }, 'dump processed');
    // dump.received rules, now that the crash reason and module are known (idempotent per dump).
    if (jobs && outcome === 'processed') await dumpReceived(ds, jobs, payload.dump_id);
    return { outcome };
  };
}

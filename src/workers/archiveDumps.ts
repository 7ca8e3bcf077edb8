import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import { archiveDueDumps, type ArchiveRun } from '../domain/dumps/archive.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import type { DumpStores } from '../storage/index.ts';

/**
 * `archive-dumps` (repeatable, DUMPS_ARCHIVE_SCHEDULE): gzip dumps older than
 * DUMPS_ARCHIVE_AFTER_DAYS into ARCHIVE_DIR. Each dump is archived on its own and
 * every step is idempotent, so a run killed half-way is finished by the next one.
 */
export function archiveDumpsProcessor(ds: DataSource, stores: DumpStores, log: Logger) {
  return async (job: Job): Promise<ArchiveRun> => {
    const payload = job.data as JobPayload<'archive-dumps'>;
    const run = await archiveDueDumps(
      { ds, stores, log },
      {
        olderThanDays: payload.older_than_days ?? config.dumps.archiveAfterDays,
        projectIds: payload.project_ids,
      },
    );
    if (run.archived || run.resumed || run.failed) log.info({ jobId: job.id, ...run }, 'dumps archived');
    return run;
  };
}

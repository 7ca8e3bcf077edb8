import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import { archiveDueDumps, type ArchiveRun } from '../domain/dumps/archive.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';
import type { DumpStores } from '../storage/index.ts';

/**
 * `archive-dumps` (repeatable, DUMPS_ARCHIVE_SCHEDULE): gzip dumps older than
 * DUMPS_ARCHIVE_AFTER_DAYS into ARCHIVE_DIR. Each dump is archived on its own and
 * every step is idempotent, so a run killed half-way is finished by the next one.
 */
export function archiveDumpsProcessor(ds: DataSource, stores: DumpStores, log: Logger) {
  return async (job: Job): Promise<ArchiveRun> => {
    const parsed = JOBS['archive-dumps'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid archive-dumps payload: ${parsed.error.message.slice(0, 500)}`);
    const run = await archiveDueDumps({ ds, stores, log }, {
      olderThanDays: parsed.data.older_than_days ?? config.dumps.archiveAfterDays,
      projectIds: parsed.data.project_ids,
    });
    if (run.archived || run.resumed || run.failed) log.info({ jobId: job.id, ...run }, 'dumps archived');
    return run;
  };
}

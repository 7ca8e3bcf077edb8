import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { processDump } from '../domain/dumps/process.ts';
import { expireDumps, stalePending, sweepOrphans } from '../domain/dumps/retention.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import type { DumpStores } from '../storage/index.ts';

/**
 * `expire-dumps` (repeatable, DUMPS_RETENTION_SCHEDULE): deletes dumps past their
 * project's retention_days, removes bytes no row points to, and processes dumps whose
 * `process-dump` job was never queued (Redis was away during the upload).
 */
export function expireDumpsProcessor(ds: DataSource, stores: DumpStores, log: Logger) {
  return async (job: Job): Promise<{ expired: number; orphans: number; caughtUp: number }> => {
    const payload = job.data as JobPayload<'expire-dumps'>;
    const expired = await expireDumps({ ds, stores }, { projectIds: payload.project_ids });
    const orphans = await sweepOrphans({ ds, stores }, { graceMs: payload.orphan_grace_ms });
    const pending = await stalePending(ds);
    for (const dump of pending) await processDump({ ds, stores }, dump.id, dump.sha256);
    if (expired || orphans || pending.length) log.info({ jobId: job.id, expired, orphans, caughtUp: pending.length }, 'dump retention ran');
    return { expired, orphans, caughtUp: pending.length };
  };
}

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { pruneRefreshTokens } from '../domain/accounts/sessions.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';

/**
 * `prune-refresh-tokens` (repeatable, REFRESH_TOKEN_PRUNE_SCHEDULE): deletes refresh
 * tokens that expired more than a grace period ago, in small batches. Idempotent: a run
 * retried or overlapping another deletes what is left.
 */
export function pruneRefreshTokensProcessor(ds: DataSource, log: Logger) {
  return async (job: Job): Promise<{ deleted: number }> => {
    const payload = job.data as JobPayload<'prune-refresh-tokens'>;
    const deleted = await pruneRefreshTokens(ds, { graceMs: payload.grace_ms, batchSize: payload.batch_size });
    if (deleted) log.info({ jobId: job.id, deleted }, 'expired refresh tokens pruned');
    return { deleted };
  };
}

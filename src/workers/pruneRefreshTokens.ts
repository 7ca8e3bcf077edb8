import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { pruneRefreshTokens } from '../domain/accounts/sessions.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';

/**
 * `prune-refresh-tokens` (repeatable, REFRESH_TOKEN_PRUNE_SCHEDULE): deletes refresh
 * tokens that expired more than a grace period ago, in small batches. Idempotent: a run
 * retried or overlapping another deletes what is left.
 */
export function pruneRefreshTokensProcessor(ds: DataSource, log: Logger) {
  return async (job: Job): Promise<{ deleted: number }> => {
    const parsed = JOBS['prune-refresh-tokens'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid prune-refresh-tokens payload: ${parsed.error.message.slice(0, 500)}`);
    const deleted = await pruneRefreshTokens(ds, { graceMs: parsed.data.grace_ms, batchSize: parsed.data.batch_size });
    if (deleted) log.info({ jobId: job.id, deleted }, 'expired refresh tokens pruned');
    return { deleted };
  };
}

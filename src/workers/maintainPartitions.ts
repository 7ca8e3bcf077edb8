import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import { DAY_MS } from '../domain/partitions/tables.ts';
import { drainDefault, ensurePartitions } from '../domain/partitions/maintain.ts';
import { expirePartitionedTables, instanceMaxRetentionDays } from '../domain/partitions/retention.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';

/**
 * `maintain-partitions` (repeatable, PARTITIONS_SCHEDULE): partitions ahead, DEFAULT drained
 * of rows that now have a period within retention, then retention. Each step is idempotent,
 * so a retried or overlapping run only does what is left.
 */
export function maintainPartitionsProcessor(ds: DataSource, log: Logger) {
  return async (job: Job) => {
    const p = job.data as JobPayload<'maintain-partitions'>;
    const now = p.now ? new Date(p.now) : new Date();
    const lockTimeoutMs = config.partitions.lockTimeoutMs;
    const ahead = await ensurePartitions(ds, { now, aheadDays: p.ahead_days ?? config.partitions.aheadDays, lockTimeoutMs });
    const maxDays = await instanceMaxRetentionDays(ds);
    const drained = await drainDefault(ds, {
      since: new Date(now.getTime() - maxDays * DAY_MS),
      until: new Date(now.getTime() + DAY_MS),
      lockTimeoutMs,
    });
    const expired = await expirePartitionedTables(ds, { now, batchSize: p.batch_size ?? config.partitions.deleteBatch, lockTimeoutMs });
    const result = { created: [...ahead.created, ...drained.created], moved: ahead.moved + drained.moved, ...expired };
    if (result.created.length || result.dropped.length || Object.values(result.deleted).some(Boolean) || result.busy.length) {
      log.info({ jobId: job.id, ...result }, 'partitions maintained');
    }
    return result;
  };
}

/** Once when a worker starts: the partitions for now and ahead. A failure is logged, not fatal (DEFAULT takes the rows meanwhile). */
export async function ensurePartitionsAtStartup(ds: DataSource, log: Logger): Promise<void> {
  try {
    const r = await ensurePartitions(ds, { aheadDays: config.partitions.aheadDays, lockTimeoutMs: config.partitions.lockTimeoutMs });
    if (r.created.length) log.info({ created: r.created, moved: r.moved }, 'partitions created ahead');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not create partitions ahead at startup; the maintain-partitions job retries');
  }
}

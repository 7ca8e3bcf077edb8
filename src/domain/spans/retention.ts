import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import { expireTable } from '../partitions/retention.ts';
import { tableSpec } from '../partitions/tables.ts';

/**
 * Spans past their project's `retention_days` go (the `expire-spans` job): whole day
 * partitions past the longest retention are dropped, shorter project retention is deleted
 * in small batches (src/domain/partitions/retention.ts), so no long lock is held and a run
 * that is retried or overlaps another just deletes what is left. Answers the rows deleted
 * in batches (dropped partitions are not counted row by row).
 */
export async function expireSpans(ds: DataSource, opts: { batchSize?: number; now?: Date } = {}): Promise<number> {
  const r = await expireTable(ds, tableSpec('spans'), {
    batchSize: opts.batchSize,
    now: opts.now,
    lockTimeoutMs: config.partitions.lockTimeoutMs,
  });
  return r.deleted.spans ?? 0;
}

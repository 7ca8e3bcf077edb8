/**
 * Retention of the partitioned tables, two ways:
 * - **By drop:** a partition whose whole range is older than the longest retention of any
 *   project (the instance max) is detached and dropped: no row-by-row delete, no bloat, no
 *   vacuum debt. PostgreSQL refuses DETACH … CONCURRENTLY on a table with a DEFAULT
 *   partition, so the plain DETACH is used with a short lock_timeout: it needs the parent's
 *   lock only for a catalog change, and when a long read holds the table it gives up within
 *   `lockTimeoutMs` (and the next run tries again) instead of queueing ingestion behind it.
 *   The DROP then touches only the detached table.
 * - **By batched delete:** a project whose retention_days is shorter than the instance max
 *   loses its older rows in batches of `batchSize` (each its own statement and transaction),
 *   and rows in DEFAULT past the instance max go the same way.
 * Rows of projects at the instance max live until their partition goes: up to one period
 * (a day; a week for LLM logs) past retention_days.
 */
import type { DataSource } from 'typeorm';
import { listPartitions } from './maintain.ts';
import { DAY_MS, defaultPartition, ident, PARTITIONED_TABLES, type PartitionedTable } from './tables.ts';

export interface RetentionOptions {
  now?: Date;
  batchSize?: number;
  lockTimeoutMs?: number;
  /** Instance max when no project exists (fresh install). */
  fallbackDays?: number;
  tables?: ReadonlyArray<PartitionedTable>;
}

export interface RetentionResult {
  dropped: string[];
  /** Rows deleted in batches, per table. */
  deleted: Record<string, number>;
  /** Partitions that could not get their lock in time this run (retried next run). */
  busy: string[];
}

const isLockTimeout = (err: unknown) => (err as { code?: string }).code === '55P03';

/** The longest retention_days of any project. */
export async function instanceMaxRetentionDays(ds: DataSource, fallback = 90): Promise<number> {
  const [row]: Array<{ days: number | null }> = await ds.query(`SELECT max(retention_days) AS days FROM projects`);
  return row?.days ?? fallback;
}

async function detachAndDrop(ds: DataSource, table: string, partition: string, lockTimeoutMs: number): Promise<void> {
  const q = ds.createQueryRunner();
  await q.connect();
  try {
    await q.query(`SET lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await q.query(`ALTER TABLE ${ident(table)} DETACH PARTITION ${ident(partition)}`);
    await q.query(`DROP TABLE ${ident(partition)}`);
  } finally {
    await q.query(`RESET lock_timeout`).catch(() => undefined);
    await q.release();
  }
}

/** Drops the whole partitions past `cutoff` of one table. */
export async function dropExpiredPartitions(
  ds: DataSource,
  spec: PartitionedTable,
  cutoff: Date,
  lockTimeoutMs = 2000,
): Promise<{ dropped: string[]; busy: string[] }> {
  const out = { dropped: [] as string[], busy: [] as string[] };
  for (const p of await listPartitions(ds, spec.table)) {
    if (p.to.getTime() > cutoff.getTime()) continue;
    try {
      await detachAndDrop(ds, spec.table, p.name, lockTimeoutMs);
      out.dropped.push(p.name);
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      out.busy.push(p.name);
    }
  }
  return out;
}

async function deleteBatches(ds: DataSource, table: string, where: string, params: unknown[], batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    // ctid is per partition: tableoid pins the partition the row is in.
    const [, n]: [unknown, number] = await ds.query(
      `DELETE FROM ${ident(table)} WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM ${ident(table)} WHERE ${where} LIMIT ${batch})`,
      params,
    );
    total += n;
    if (n < batch) return total;
  }
}

/** One table's retention: drop what is past the instance max, delete in batches what is past a shorter project retention. */
export async function expireTable(ds: DataSource, spec: PartitionedTable, opts: RetentionOptions = {}): Promise<RetentionResult> {
  const now = (opts.now ?? new Date()).getTime();
  const batch = opts.batchSize ?? 5000;
  const maxDays = await instanceMaxRetentionDays(ds, opts.fallbackDays);
  const maxCutoff = new Date(now - maxDays * DAY_MS);
  const { dropped, busy } = await dropExpiredPartitions(ds, spec, maxCutoff, opts.lockTimeoutMs);
  const col = ident(spec.column);
  let deleted = await deleteBatches(ds, defaultPartition(spec.table), `${col} < $1`, [maxCutoff], batch);
  const shorter: Array<{ id: number; retention_days: number }> = await ds.query(
    `SELECT id, retention_days FROM projects WHERE retention_days < $1 ORDER BY id`,
    [maxDays],
  );
  for (const p of shorter) {
    deleted += await deleteBatches(
      ds,
      spec.table,
      `project_id = $1 AND ${col} < $2`,
      [p.id, new Date(now - p.retention_days * DAY_MS)],
      batch,
    );
  }
  return { dropped, busy, deleted: { [spec.table]: deleted } };
}

export async function expirePartitionedTables(ds: DataSource, opts: RetentionOptions = {}): Promise<RetentionResult> {
  const out: RetentionResult = { dropped: [], deleted: {}, busy: [] };
  for (const spec of opts.tables ?? PARTITIONED_TABLES) {
    const r = await expireTable(ds, spec, opts);
    out.dropped.push(...r.dropped);
    out.busy.push(...r.busy);
    Object.assign(out.deleted, r.deleted);
  }
  return out;
}

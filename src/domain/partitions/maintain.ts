/**
 * Partitions created ahead of time, by the housekeeping worker (`maintain-partitions`, and
 * once at worker startup): every period from now to `aheadDays` ahead exists before a row
 * needs it. Idempotent (a partition that exists is left alone) and safe with several
 * workers (one transaction-scoped advisory lock per table).
 *
 * Rows whose period has no partition (late or future timestamps) land in the table's
 * DEFAULT partition. PostgreSQL refuses to create a partition while DEFAULT holds rows of
 * its range, so such rows are moved first: in one transaction, the new partition is made
 * as a plain table, the rows move into it (DELETE … RETURNING into INSERT), and it is
 * attached. DDL waits at most `lockTimeoutMs` for its locks and then retries later, so a
 * long-running read never makes ingestion queue up behind a waiting DDL statement.
 */
import type { DataSource, QueryRunner } from 'typeorm';
import { defaultPartition, ident, partitionName, PARTITIONED_TABLES, periodLength, periodStart, type PartitionedTable } from './tables.ts';

export interface MaintainOptions {
  now?: Date;
  /** Partitions exist up to this many days after now (PARTITIONS_AHEAD_DAYS). */
  aheadDays: number;
  lockTimeoutMs?: number;
  tables?: ReadonlyArray<PartitionedTable>;
}

export interface PartitionRange {
  name: string;
  from: Date;
  to: Date;
}

const LOCK_BASE = 7_123_456_000;
export const lockKeyOf = (table: string) => LOCK_BASE + PARTITIONED_TABLES.findIndex((t) => t.table === table);

/** The table's range partitions (DEFAULT excluded), oldest first. */
export async function listPartitions(q: DataSource | QueryRunner, table: string): Promise<PartitionRange[]> {
  const rows: Array<{ name: string; from: Date; to: Date }> = await q.query(
    `SELECT c.relname AS name, b.m[1]::timestamptz AS "from", b.m[2]::timestamptz AS "to"
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
            LATERAL (SELECT regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') AS m) b
      WHERE i.inhparent = $1::regclass AND b.m IS NOT NULL
      ORDER BY 2`,
    [table],
  );
  return rows;
}

/** Periods [start, end) that should exist now: the current one and those up to aheadDays ahead. */
export function wantedPeriods(spec: PartitionedTable, now: number, aheadDays: number): Array<[number, number]> {
  const len = periodLength(spec.interval);
  const out: Array<[number, number]> = [];
  for (let s = periodStart(now, spec.interval); s <= now + aheadDays * 86_400_000; s += len) out.push([s, s + len]);
  return out;
}

/**
 * Creates the partition [from, to) of `spec.table` unless one exists, moving rows of that
 * range out of DEFAULT first. Answers the rows moved, or null when it already existed.
 */
export async function createPartition(
  ds: DataSource,
  spec: PartitionedTable,
  from: number,
  to: number,
  lockTimeoutMs = 2000,
): Promise<number | null> {
  const t = spec.table;
  const name = partitionName(t, from);
  const lo = new Date(from).toISOString();
  const hi = new Date(to).toISOString();
  const q = ds.createQueryRunner();
  await q.connect();
  try {
    await q.startTransaction();
    await q.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    await q.query(`SELECT pg_advisory_xact_lock($1)`, [lockKeyOf(t)]);
    const existing = await listPartitions(q, t);
    if (existing.some((p) => p.from.getTime() < to && p.to.getTime() > from)) {
      await q.commitTransaction();
      return null;
    }
    const def = defaultPartition(t);
    const col = ident(spec.column);
    const late: Array<{ one: number }> = await q.query(`SELECT 1 AS one FROM ${ident(def)} WHERE ${col} >= $1 AND ${col} < $2 LIMIT 1`, [
      lo,
      hi,
    ]);
    let moved = 0;
    if (!late.length) {
      await q.query(`CREATE TABLE ${ident(name)} PARTITION OF ${ident(t)} FOR VALUES FROM ('${lo}') TO ('${hi}')`);
    } else {
      // Nothing new of this range may land in DEFAULT between the move and the attach.
      await q.query(`LOCK TABLE ${ident(def)} IN EXCLUSIVE MODE`);
      await q.query(
        `CREATE TABLE ${ident(name)} (LIKE ${ident(t)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)`,
      );
      const result = (await q.query(
        `WITH moved AS (DELETE FROM ${ident(def)} WHERE ${col} >= $1 AND ${col} < $2 RETURNING *) INSERT INTO ${ident(name)} SELECT * FROM moved`,
        [lo, hi],
        true,
      )) as { affected?: number };
      moved = result.affected ?? 0;
      // The attach builds the parent's indexes on it and checks the range and foreign keys.
      await q.query(`ALTER TABLE ${ident(t)} ATTACH PARTITION ${ident(name)} FOR VALUES FROM ('${lo}') TO ('${hi}')`);
    }
    await q.commitTransaction();
    return moved;
  } catch (err) {
    if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await q.release();
  }
}

export interface MaintainResult {
  created: string[];
  /** Rows moved out of DEFAULT into partitions created for them. */
  moved: number;
}

/** Every table gets its partitions from the current period to aheadDays ahead. */
export async function ensurePartitions(ds: DataSource, opts: MaintainOptions): Promise<MaintainResult> {
  const now = (opts.now ?? new Date()).getTime();
  const out: MaintainResult = { created: [], moved: 0 };
  for (const spec of opts.tables ?? PARTITIONED_TABLES) {
    const have = await listPartitions(ds, spec.table);
    for (const [from, to] of wantedPeriods(spec, now, opts.aheadDays)) {
      if (have.some((p) => p.from.getTime() < to && p.to.getTime() > from)) continue;
      const moved = await createPartition(ds, spec, from, to, opts.lockTimeoutMs);
      if (moved !== null) {
        out.created.push(partitionName(spec.table, from));
        out.moved += moved;
      }
    }
  }
  return out;
}

/**
 * Partitions for the periods of rows waiting in DEFAULT that are still within retention
 * (`since`): a late batch of yesterday's events gets yesterday's partition back, so
 * DEFAULT stays small and those rows are dropped with their day.
 */
export async function drainDefault(
  ds: DataSource,
  opts: { since: Date; until: Date; lockTimeoutMs?: number; tables?: ReadonlyArray<PartitionedTable> },
): Promise<MaintainResult> {
  const out: MaintainResult = { created: [], moved: 0 };
  for (const spec of opts.tables ?? PARTITIONED_TABLES) {
    const col = ident(spec.column);
    const unit = spec.interval === 'day' ? 'day' : 'week';
    const periods: Array<{ p: Date }> = await ds.query(
      `SELECT DISTINCT date_trunc('${unit}', ${col} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS p FROM ${ident(defaultPartition(spec.table))}
        WHERE ${col} >= $1 AND ${col} < $2 ORDER BY 1 LIMIT 400`,
      [opts.since, opts.until],
    );
    for (const { p } of periods) {
      const from = periodStart(p.getTime(), spec.interval);
      const moved = await createPartition(ds, spec, from, from + periodLength(spec.interval), opts.lockTimeoutMs);
      if (moved !== null) {
        out.created.push(partitionName(spec.table, from));
        out.moved += moved;
      }
    }
  }
  return out;
}

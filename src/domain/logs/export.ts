import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import QueryStream from 'pg-query-stream';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { logWhere, type LogFilters, type LogOrder } from './filters.ts';
import type { Scope } from './scope.ts';

export const CSV_COLUMNS = ['id', 'timestamp', 'severity', 'source', 'message', 'environment', 'project', 'archived', 'created_at', 'updated_at'];

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${ISO})`;

// Formatting in SQL (array rows, no Date objects) keeps the per-row cost in Node small.
const SELECT = `SELECT id, ${iso('"timestamp"')}, upper(level), service, message, environment, project_id, archived,
                       ${iso('received_at')}, ${iso('updated_at')} FROM events`;

/** Rows fetched per round trip from the server-side cursor: memory stays flat whatever the total. */
const BATCH_ROWS = 1000;

/**
 * Streams every matching log as CSV (a header, then one row per log) into `out`,
 * straight from a PostgreSQL cursor, with backpressure end to end: a slow reader
 * slows the cursor down instead of filling memory. Resolves when done; rejects if
 * the reader goes away (the cursor is closed and the connection returned either way).
 */
export async function exportLogsCsv(ds: DataSource, scope: Scope, f: LogFilters, order: LogOrder, out: Writable): Promise<void> {
  const params: unknown[] = [];
  const where = !scope.all && scope.projectIds.length === 0 ? ['false'] : logWhere(scope, f, params);
  const runner = ds.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  try {
    const rows = client.query(new QueryStream(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY ${order.sql}`, params, { batchSize: BATCH_ROWS, rowMode: 'array' }));
    const csv = stringify({ header: true, columns: CSV_COLUMNS, cast: { boolean: (b) => (b ? 'true' : 'false') } });
    await pipeline(rows, csv, out);
  } finally {
    await runner.release();
  }
}

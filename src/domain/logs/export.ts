import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import { csvStream } from '../csv.ts';
import { logWhere, type LogFilters, type LogOrder } from './filters.ts';
import type { Scope } from '../access/index.ts';

export const CSV_COLUMNS = [
  'id',
  'timestamp',
  'severity',
  'source',
  'message',
  'environment',
  'project',
  'archived',
  'created_at',
  'updated_at',
];
const MESSAGE = CSV_COLUMNS.indexOf('message');

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', ${ISO})`;

/** Rows per FETCH from the server-side cursor. */
const BATCH_ROWS = 1000;

/**
 * The cursor's rows carry a message only when it is small (at most `inline` bytes), plus
 * every message's size in bytes (read from the TOAST header, not the value): so a FETCH
 * of BATCH_ROWS rows is at most about batchBytes whatever the messages, and the big ones
 * are read afterwards by id, a few at a time. Formatting in SQL (array rows, no Date
 * objects) keeps the per-row cost in Node small.
 */
const select = (inline: number) =>
  `SELECT id, ${iso('"timestamp"')}, upper(level), service,
          CASE WHEN octet_length(message) <= ${inline} THEN message END, environment, project_id, archived,
          ${iso('received_at')}, ${iso('updated_at')}, octet_length(message) FROM events`;

type Row = unknown[];

/**
 * Every row of `query`, in order, holding at most about `batchBytes` of rows at a time.
 * One connection in a REPEATABLE READ transaction, so the by-id reads of big messages see
 * the cursor's snapshot. Pulled by its reader (backpressure reaches the cursor); the
 * connection is given back however the iteration ends.
 */
async function* logRows(ds: DataSource, where: string, params: unknown[], order: string, batchBytes: number): AsyncGenerator<Row> {
  const runner = ds.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  let open = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open = true;
    const inline = Math.floor(batchBytes / BATCH_ROWS);
    await client.query(`DECLARE log_export NO SCROLL CURSOR FOR ${select(inline)} WHERE ${where} ORDER BY ${order}`, params);
    for (;;) {
      const batch: Array<Row | undefined> = (await client.query({ text: `FETCH ${BATCH_ROWS} FROM log_export`, rowMode: 'array' })).rows;
      for (let i = 0; i < batch.length; i++) {
        if (batch[i]![MESSAGE] === null) {
          // This message and the next big ones of the batch, up to batchBytes (at least one).
          const ids: string[] = [];
          let bytes = 0;
          for (let j = i; j < batch.length; j++) {
            const row = batch[j]!;
            if (row[MESSAGE] !== null) continue;
            const size = Number(row.at(-1));
            if (ids.length > 0 && bytes + size > batchBytes) break;
            ids.push(String(row[0]));
            bytes += size;
          }
          const { rows } = await client.query<{ id: string; message: string }>(
            `SELECT id, message FROM events WHERE id = ANY($1::bigint[])`,
            [ids],
          );
          const messages = new Map(rows.map((r) => [r.id, r.message]));
          for (const row of batch.slice(i))
            if (row && row[MESSAGE] === null && messages.has(String(row[0]))) row[MESSAGE] = messages.get(String(row[0]));
        }
        const row = batch[i]!;
        batch[i] = undefined; // let a shown megabyte go
        if (row[MESSAGE] === null) row[MESSAGE] = ''; // not possible in the snapshot; never "null" in a cell
        yield row.slice(0, -1);
      }
      if (batch.length < BATCH_ROWS) break;
    }
    await client.query('COMMIT');
    open = false;
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
    await runner.release();
  }
}

/**
 * Streams every matching log as CSV (a header, then one row per log, messages whole) into
 * `out`, straight from a PostgreSQL cursor, with backpressure end to end: a slow reader
 * slows the cursor down instead of filling memory, and memory stays flat whatever the
 * row sizes (see logRows). Resolves when done; rejects if the reader goes away (the
 * cursor is closed and the connection returned either way).
 */
export async function exportLogsCsv(
  ds: DataSource,
  scope: Scope,
  f: LogFilters,
  order: LogOrder,
  out: Writable,
  batchBytes = config.exports.batchBytes,
): Promise<void> {
  const params: unknown[] = [];
  const where = !scope.all && scope.projectIds.length === 0 ? ['false'] : logWhere(scope, f, params);
  await pipeline(csvStream(CSV_COLUMNS, logRows(ds, where.join(' AND '), params, order.sql, batchBytes)), out);
}

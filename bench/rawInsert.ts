/**
 * The yardstick for batched ingest: the same rows written straight into PostgreSQL by
 * 500-row multi-row INSERTs (`ON CONFLICT DO NOTHING` on the same unique key), two
 * statements in flight, into a scratch copy of the events table (same columns, indexes
 * and defaults; dropped afterwards). No HTTP, queue or worker: what the database alone
 * does with these rows on this machine, in this run.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const ROWS = 500;
const COLUMNS = [
  'project_id',
  'event_id',
  'kind',
  'timestamp',
  'received_at',
  'level',
  'message',
  'exception_type',
  'stacktrace',
  'environment',
  'service',
  'tags',
  'extra',
  'origin',
];

export interface RawInsertResult {
  rows: number;
  seconds: number;
  rowsPerS: number;
}

export async function rawInsert(
  databaseUrl: string,
  projectId: number,
  event: Record<string, unknown>,
  total: number,
  inFlight = 2,
): Promise<RawInsertResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: inFlight });
  const table = `bench_raw_events_${process.pid}`;
  try {
    await pool.query(`CREATE TABLE ${table} (LIKE events INCLUDING ALL)`);
    const placeholders = Array.from(
      { length: ROWS },
      (_, r) => `(${COLUMNS.map((_, c) => `$${r * COLUMNS.length + c + 1}`).join(', ')})`,
    ).join(', ');
    const text = `INSERT INTO ${table} (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${placeholders} ON CONFLICT DO NOTHING`;
    const row = (): unknown[] => {
      const now = new Date();
      return [
        projectId,
        randomUUID().replace(/-/g, ''),
        'error',
        new Date(Number(event.timestamp) * 1000),
        now,
        event.level,
        event.message,
        event.exception_type,
        event.stacktrace,
        event.environment,
        event.service_name,
        JSON.stringify(event.tags),
        JSON.stringify(event.extra),
        'panties',
      ];
    };
    const statements = Math.ceil(total / ROWS);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < statements) {
          next++;
          const values: unknown[] = [];
          for (let i = 0; i < ROWS; i++) values.push(...row());
          await pool.query({ name: 'bench_raw_insert', text, values });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { rows: statements * ROWS, seconds, rowsPerS: (statements * ROWS) / seconds };
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await pool.end();
  }
}

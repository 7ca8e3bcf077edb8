import type { DataSource } from 'typeorm';
import type { EventRecord } from './record.ts';

const COLUMNS = [
  'project_id',
  'event_id',
  'kind',
  'event_type',
  'timestamp',
  'received_at',
  'level',
  'message',
  'exception_type',
  'stacktrace',
  'environment',
  'service',
  'user_ref',
  'tags',
  'extra',
  'origin',
] as const satisfies ReadonlyArray<keyof EventRecord>;

// 16 columns × 1000 rows stays well under PostgreSQL's 65535 bind parameters.
const ROWS_PER_STATEMENT = 1000;
const COLUMN_LIST = COLUMNS.map((c) => `"${c}"`).join(', ');

function insertSql(rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * COLUMNS.length;
    tuples.push(`(${COLUMNS.map((_, c) => `$${base + c + 1}`).join(', ')})`);
  }
  // The unique key makes every write idempotent: re-delivered jobs and client retries insert nothing.
  return `INSERT INTO events (${COLUMN_LIST}) VALUES ${tuples.join(', ')} ON CONFLICT (project_id, event_id) DO NOTHING`;
}

const sqlCache = new Map<number, string>();
const sqlFor = (rows: number) => sqlCache.get(rows) ?? sqlCache.set(rows, insertSql(rows)).get(rows)!;

function params(records: EventRecord[]): unknown[] {
  const out: unknown[] = [];
  for (const r of records) {
    for (const c of COLUMNS) {
      const v = r[c];
      // jsonb columns: pass JSON text (node-postgres would turn a top-level array into a PG array).
      out.push(c === 'tags' || c === 'extra' ? JSON.stringify(v) : v);
    }
  }
  return out;
}

/** Inserts with one multi-row statement per 1000 records; returns how many rows were new. */
export async function insertEvents(ds: DataSource, records: EventRecord[]): Promise<number> {
  let inserted = 0;
  const runner = ds.createQueryRunner();
  try {
    for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
      const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
      const result = (await runner.query(sqlFor(chunk.length), params(chunk), true)) as { affected?: number };
      inserted += result.affected ?? 0;
    }
  } finally {
    await runner.release();
  }
  return inserted;
}

export interface InsertedEvent {
  id: string;
  project_id: number;
  event_id: string;
  updated_at: Date;
}

/**
 * Like insertEvents, but answers the rows that were new (duplicates are not returned),
 * with their ids: what the live tail publishes once the insert has committed.
 */
export async function insertEventsReturning(ds: DataSource, records: EventRecord[]): Promise<InsertedEvent[]> {
  const out: InsertedEvent[] = [];
  const runner = ds.createQueryRunner();
  try {
    for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
      const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
      const result = (await runner.query(`${sqlFor(chunk.length)} RETURNING id, project_id, event_id, updated_at`, params(chunk), true)) as {
        records: InsertedEvent[];
      };
      out.push(...result.records);
    }
  } finally {
    await runner.release();
  }
  return out;
}

/** Project ids among `ids` that still exist (a project may be deleted while its events wait in the queue). */
export async function existingProjects(ds: DataSource, ids: number[]): Promise<Set<number>> {
  const rows: Array<{ id: number }> = await ds.query(`SELECT id FROM projects WHERE id = ANY($1::int[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

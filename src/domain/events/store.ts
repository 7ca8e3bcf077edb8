import type { DataSource, EntityManager } from 'typeorm';
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
// Plus issue_id, which comes from grouping, not from the record.
const WIDTH = COLUMNS.length + 1;

// 17 columns × 1000 rows stays well under PostgreSQL's 65535 bind parameters.
const ROWS_PER_STATEMENT = 1000;
const COLUMN_LIST = [...COLUMNS, 'issue_id'].map((c) => `"${c}"`).join(', ');

function insertSql(rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * WIDTH;
    tuples.push(`(${Array.from({ length: WIDTH }, (_, c) => `$${base + c + 1}`).join(', ')})`);
  }
  // The unique key makes every write idempotent: re-delivered jobs and client retries insert nothing.
  return `INSERT INTO events (${COLUMN_LIST}) VALUES ${tuples.join(', ')} ON CONFLICT (project_id, event_id) DO NOTHING`;
}

const sqlCache = new Map<number, string>();
const sqlFor = (rows: number) => sqlCache.get(rows) ?? sqlCache.set(rows, insertSql(rows)).get(rows)!;

function params(records: EventRecord[], issueIds: ReadonlyArray<string | null> | undefined, offset: number): unknown[] {
  const out: unknown[] = [];
  records.forEach((r, i) => {
    for (const c of COLUMNS) {
      const v = r[c];
      // jsonb columns: pass JSON text (node-postgres would turn a top-level array into a PG array).
      out.push(c === 'tags' || c === 'extra' ? JSON.stringify(v) : v);
    }
    out.push(issueIds?.[offset + i] ?? null);
  });
  return out;
}

export interface InsertedEvent {
  id: string;
  project_id: number;
  event_id: string;
  updated_at: Date;
}

/**
 * One multi-row statement per 1000 records, each with its issue id (or null). Answers
 * the rows that were new (duplicates are not returned): what issue counters and the
 * live tail work from. Pass the transaction's EntityManager to insert inside it.
 */
export async function insertEvents(db: DataSource | EntityManager, records: EventRecord[], issueIds?: ReadonlyArray<string | null>): Promise<InsertedEvent[]> {
  const out: InsertedEvent[] = [];
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
    const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
    const rows: InsertedEvent[] = await db.query(`${sqlFor(chunk.length)} RETURNING id, project_id, event_id, updated_at`, params(chunk, issueIds, i));
    for (const row of rows) out.push(row);
  }
  return out;
}

/** Project ids among `ids` that still exist (a project may be deleted while its events wait in the queue). */
export async function existingProjects(ds: DataSource, ids: number[]): Promise<Set<number>> {
  const rows: Array<{ id: number }> = await ds.query(`SELECT id FROM projects WHERE id = ANY($1::int[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

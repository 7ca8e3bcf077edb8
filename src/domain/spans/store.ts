import type { Sql } from '../../db/sql.ts';
import type { SpanRecord } from './record.ts';

const COLUMNS = [
  'project_id',
  'trace_id',
  'span_id',
  'parent_span_id',
  'name',
  'kind',
  'start_time',
  'end_time',
  'duration_ms',
  'status_code',
  'status_message',
  'service',
  'environment',
  'attributes',
  'resource',
  'scope',
  'events',
  'links',
  'origin',
  'received_at',
] as const satisfies ReadonlyArray<keyof SpanRecord>;
const JSON_COLUMNS = new Set<string>(['attributes', 'resource', 'scope', 'events', 'links']);

// 20 columns × 500 rows: well under PostgreSQL's 65535 bind parameters.
const ROWS_PER_STATEMENT = 500;
const COLUMN_LIST = COLUMNS.map((c) => `"${c}"`).join(', ');

function insertSql(rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * COLUMNS.length;
    tuples.push(`(${COLUMNS.map((_, c) => `$${base + c + 1}`).join(', ')})`);
  }
  // Idempotent on (project, trace, span): an exporter's retry or a re-delivered job inserts nothing.
  return `INSERT INTO spans (${COLUMN_LIST}) VALUES ${tuples.join(', ')} ON CONFLICT (project_id, trace_id, span_id, start_time) DO NOTHING`;
}

function params(records: SpanRecord[]): unknown[] {
  const out: unknown[] = [];
  for (const r of records) for (const c of COLUMNS) out.push(JSON_COLUMNS.has(c) ? JSON.stringify(r[c]) : r[c]);
  return out;
}

/** Multi-row inserts; answers how many spans were new. */
export async function insertSpans(sql: Sql, records: SpanRecord[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
    const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
    const result = await sql.query({ name: `faultline_store_spans_${chunk.length}`, text: insertSql(chunk.length), values: params(chunk) });
    inserted += result.rowCount ?? 0;
  }
  return inserted;
}

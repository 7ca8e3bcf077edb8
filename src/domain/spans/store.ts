import type { Sql } from '../../db/sql.ts';
import type { SpanRecord } from './record.ts';
import { valuesWithoutDuplicates } from '../partitions/dedupe.ts';

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
const TYPES: Record<string, string> = {
  project_id: 'int',
  trace_id: 'varchar',
  span_id: 'varchar',
  parent_span_id: 'varchar',
  name: 'varchar',
  kind: 'varchar',
  start_time: 'timestamptz',
  end_time: 'timestamptz',
  duration_ms: 'float8',
  status_code: 'varchar',
  status_message: 'text',
  service: 'varchar',
  environment: 'varchar',
  attributes: 'jsonb',
  resource: 'jsonb',
  scope: 'jsonb',
  events: 'jsonb',
  links: 'jsonb',
  origin: 'varchar',
  received_at: 'timestamptz',
};

// 20 columns × 500 rows: well under PostgreSQL's 65535 bind parameters.
const ROWS_PER_STATEMENT = 500;
const COLUMN_LIST = COLUMNS.map((c) => `"${c}"`).join(', ');

function insertSql(rows: number): string {
  // Idempotent on (project, trace, span): an exporter's retry or a re-delivered job inserts nothing
  // (within a day of the first's start time: src/domain/partitions/dedupe.ts).
  const source = valuesWithoutDuplicates({
    table: 'spans',
    columns: COLUMNS,
    types: TYPES,
    rows,
    keys: ['project_id', 'trace_id', 'span_id'],
    time: 'start_time',
  });
  return `INSERT INTO spans (${COLUMN_LIST}) ${source} ON CONFLICT (project_id, trace_id, span_id, start_time) DO NOTHING`;
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

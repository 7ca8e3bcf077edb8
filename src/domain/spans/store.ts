import { uniqueRounds } from '../../db/rounds.ts';
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
  'scrubbed',
] as const satisfies ReadonlyArray<keyof SpanRecord>;
const JSON_COLUMNS = new Set<string>(['attributes', 'resource', 'scope', 'events', 'links']);

// 21 columns × 500 rows: well under PostgreSQL's 65535 bind parameters.
const ROWS_PER_STATEMENT = 500;
const COLUMN_LIST = COLUMNS.map((c) => `"${c}"`).join(', ');

function insertSql(rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * COLUMNS.length;
    tuples.push(`(${COLUMNS.map((_, c) => `$${base + c + 1}`).join(', ')})`);
  }
  // Idempotent on (project, trace, span): an exporter's retry or a re-delivered job inserts nothing.
  return `INSERT INTO spans (${COLUMN_LIST}) VALUES ${tuples.join(', ')} ON CONFLICT (project_id, trace_id, span_id) DO NOTHING`;
}

function params(records: SpanRecord[]): unknown[] {
  const out: unknown[] = [];
  for (const r of records) for (const c of COLUMNS) out.push(JSON_COLUMNS.has(c) ? JSON.stringify(r[c]) : c === 'scrubbed' ? (r[c] ? JSON.stringify(r[c]) : null) : r[c]);
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

// --- merging (Langfuse's create/update events) ----------------------------------------

const NEWER = `COALESCE(EXCLUDED.attributes->>'langfuse.event_at', '') >= COALESCE(spans.attributes->>'langfuse.event_at', '')`;
const pick = (c: string, empty = 'NULL') =>
  `CASE WHEN ${NEWER} THEN COALESCE(NULLIF(EXCLUDED.${c}, ${empty}), spans.${c}) ELSE COALESCE(NULLIF(spans.${c}, ${empty}), EXCLUDED.${c}) END`;
// A score only adds its attributes (the latest value of a name wins); its time says nothing about the span's.
const SCORE = `'langfuse.score_only'`;
const NEW_SCORE = `(EXCLUDED.attributes ? ${SCORE})`;
const OLD_SCORE = `(spans.attributes ? ${SCORE})`;
const MERGED = `CASE WHEN ${NEW_SCORE} OR ${NEWER} THEN spans.attributes || EXCLUDED.attributes ELSE EXCLUDED.attributes || spans.attributes END`;
const ATTRS = `(CASE WHEN ${NEW_SCORE} AND ${OLD_SCORE} THEN ${MERGED} ELSE (${MERGED}) - ${SCORE} END)`;
const either = (fn: 'LEAST' | 'GREATEST', c: string) =>
  `CASE WHEN ${NEW_SCORE} THEN spans.${c} WHEN ${OLD_SCORE} THEN EXCLUDED.${c} ELSE ${fn}(spans.${c}, EXCLUDED.${c}) END`;
const START = `COALESCE((${ATTRS}->>'langfuse.start_time')::timestamptz, ${either('LEAST', 'start_time')})`;
const END = `GREATEST(COALESCE((${ATTRS}->>'langfuse.end_time')::timestamptz, ${either('GREATEST', 'end_time')}), ${START})`;

function mergeSql(rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * COLUMNS.length;
    tuples.push(`(${COLUMNS.map((c, i) => `$${base + i + 1}${JSON_COLUMNS.has(c) ? '::jsonb' : ''}`).join(', ')})`);
  }
  // A span's start and end may come in different events; its status follows the merged level.
  return `INSERT INTO spans (${COLUMN_LIST}) VALUES ${tuples.join(', ')}
    ON CONFLICT (project_id, trace_id, span_id) DO UPDATE SET
      start_time = ${START}, end_time = ${END},
      duration_ms = EXTRACT(EPOCH FROM (${END} - ${START})) * 1000,
      name = ${pick('name', "''")}, parent_span_id = ${pick('parent_span_id')},
      status_code = CASE WHEN (${ATTRS}->>'langfuse.level') = 'ERROR' THEN 'error' ELSE ${pick('status_code', "'unset'")} END,
      status_message = ${pick('status_message')}, service = ${pick('service')}, environment = ${pick('environment')},
      attributes = ${ATTRS}
    RETURNING (xmax = 0) AS inserted`;
}

/**
 * Merges events about spans into them (inserting the first): the newer event's values
 * win where it has them, attributes merge key by key. Idempotent and order-independent.
 * Answers how many spans were new.
 */
export async function mergeSpans(sql: Sql, records: SpanRecord[]): Promise<number> {
  let inserted = 0;
  for (const round of uniqueRounds(records, (r) => `${r.project_id}:${r.trace_id}:${r.span_id}`)) {
    for (let i = 0; i < round.length; i += ROWS_PER_STATEMENT) {
      const chunk = round.slice(i, i + ROWS_PER_STATEMENT);
      const result = await sql.query({ text: mergeSql(chunk.length), values: params(chunk) });
      inserted += (result.rows as Array<{ inserted: boolean }>).filter((r) => r.inserted).length;
    }
  }
  return inserted;
}

import type { DataSource } from 'typeorm';
import { uniqueRounds } from '../../db/rounds.ts';
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
  'scrubbed',
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
  scrubbed: 'jsonb',
};

// 21 columns × 500 rows: well under PostgreSQL's 65535 bind parameters.
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
  for (const r of records)
    for (const c of COLUMNS)
      out.push(JSON_COLUMNS.has(c) ? JSON.stringify(r[c]) : c === 'scrubbed' ? (r[c] ? JSON.stringify(r[c]) : null) : r[c]);
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

const EXCLUDED_ROW = `(VALUES (${COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}`).join(', ')})) AS excluded(${COLUMN_LIST})`;
/** Update-or-insert under a lock on the span's ids: the partitioned table's unique key holds start_time, which a later event may move. */
const MERGE_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('spans:' || $1::text || ':' || $2::text || ':' || $3::text, 0))`;
// A span's start and end may come in different events; its status follows the merged level.
const MERGE_UPDATE = `UPDATE spans SET
      start_time = ${START}, end_time = ${END},
      duration_ms = EXTRACT(EPOCH FROM (${END} - ${START})) * 1000,
      name = ${pick('name', "''")}, parent_span_id = ${pick('parent_span_id')},
      status_code = CASE WHEN (${ATTRS}->>'langfuse.level') = 'ERROR' THEN 'error' ELSE ${pick('status_code', "'unset'")} END,
      status_message = ${pick('status_message')}, service = ${pick('service')}, environment = ${pick('environment')},
      attributes = ${ATTRS}
    FROM ${EXCLUDED_ROW}
    WHERE spans.project_id = excluded.project_id AND spans.trace_id = excluded.trace_id AND spans.span_id = excluded.span_id`;
const MERGE_INSERT = `INSERT INTO spans (${COLUMN_LIST}) SELECT * FROM ${EXCLUDED_ROW}`;

/**
 * Merges events about spans into them (inserting the first): the newer event's values
 * win where it has them, attributes merge key by key. Idempotent and order-independent.
 * Answers how many spans were new.
 */
export async function mergeSpans(ds: DataSource, records: SpanRecord[]): Promise<number> {
  let inserted = 0;
  for (const round of uniqueRounds(records, (r) => `${r.project_id}:${r.trace_id}:${r.span_id}`)) {
    for (const record of round) {
      const values = params([record]);
      await ds.transaction(async (tx) => {
        await tx.query(MERGE_LOCK, [record.project_id, record.trace_id, record.span_id]);
        const [, updated] = (await tx.query(MERGE_UPDATE, values)) as [unknown, number];
        if (!updated) {
          await tx.query(MERGE_INSERT, values);
          inserted++;
        }
      });
    }
  }
  return inserted;
}

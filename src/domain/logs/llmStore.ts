import type { DataSource } from 'typeorm';
import { uniqueRounds } from '../../db/rounds.ts';
import type { LlmLogRecord } from './llmRecord.ts';
import { valuesWithoutDuplicates } from '../partitions/dedupe.ts';

const COLUMNS = [
  'project_id',
  'event_id',
  'timestamp',
  'received_at',
  'user_ref',
  'source',
  'model',
  'query',
  'response',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'latency_ms',
  'metadata',
  'trace_id',
  'span_id',
  'cached_tokens',
  'error',
  'origin',
  'cost',
  'scrubbed',
] as const satisfies ReadonlyArray<keyof LlmLogRecord>;

const TYPES: Record<string, string> = {
  project_id: 'int',
  event_id: 'varchar',
  timestamp: 'timestamptz',
  received_at: 'timestamptz',
  user_ref: 'varchar',
  source: 'varchar',
  model: 'varchar',
  query: 'text',
  response: 'text',
  prompt_tokens: 'int',
  completion_tokens: 'int',
  total_tokens: 'int',
  latency_ms: 'float8',
  metadata: 'jsonb',
  trace_id: 'varchar',
  span_id: 'varchar',
  cached_tokens: 'int',
  error: 'varchar',
  origin: 'varchar',
  cost: 'float8',
  scrubbed: 'jsonb',
};

// Rows can be megabytes each (prompts and responses): keep statements to a modest size.
const ROWS_PER_STATEMENT = 100;
const COLUMN_LIST = COLUMNS.map((c) => `"${c}"`).join(', ');

function insertSql(rows: number): string {
  // The unique key makes every write idempotent: re-delivered jobs and client retries insert nothing
  // (a retry stamped with another time too, within a day: src/domain/partitions/dedupe.ts).
  const source = valuesWithoutDuplicates({
    table: 'llm_logs',
    columns: COLUMNS,
    types: TYPES,
    rows,
    keys: ['project_id', 'event_id'],
    time: 'timestamp',
  });
  return `INSERT INTO llm_logs (${COLUMN_LIST}) ${source} ON CONFLICT (project_id, event_id, "timestamp") DO NOTHING RETURNING project_id, event_id`;
}

function params(records: LlmLogRecord[]): unknown[] {
  const out: unknown[] = [];
  for (const r of records)
    for (const c of COLUMNS)
      out.push(c === 'metadata' ? JSON.stringify(r[c]) : c === 'scrubbed' ? (r[c] ? JSON.stringify(r[c]) : null) : (r[c] ?? null));
  return out;
}

/** One multi-row insert per 100 records; returns how many rows were new (and adds "project:event_id" of each to `fresh`). */
export async function insertLlmLogs(ds: DataSource, records: LlmLogRecord[], fresh?: Set<string>): Promise<number> {
  let inserted = 0;
  const runner = ds.createQueryRunner();
  try {
    for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
      const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
      const result = (await runner.query(insertSql(chunk.length), params(chunk), true)) as {
        affected?: number;
        records?: Array<{ project_id: number; event_id: string }>;
      };
      inserted += result.affected ?? 0;
      for (const r of result.records ?? []) fresh?.add(`${r.project_id}:${r.event_id}`);
    }
  } finally {
    await runner.release();
  }
  return inserted;
}

// --- merging (Langfuse's create/update events) ----------------------------------------

/** Whether the incoming row is the newer event (ISO strings in metadata.event_at compare as times). */
const NEWER = `COALESCE(EXCLUDED.metadata->>'event_at', '') >= COALESCE(llm_logs.metadata->>'event_at', '')`;
/** The newer event's value where it has one, else the other's. */
const pick = (c: string, empty = 'NULL') =>
  `CASE WHEN ${NEWER} THEN COALESCE(NULLIF(EXCLUDED.${c}, ${empty}), llm_logs.${c}) ELSE COALESCE(NULLIF(llm_logs.${c}, ${empty}), EXCLUDED.${c}) END`;
const MERGED_METADATA = `CASE WHEN ${NEWER} THEN llm_logs.metadata || EXCLUDED.metadata ELSE EXCLUDED.metadata || llm_logs.metadata END`;
const at = (field: string) => `((${MERGED_METADATA})->>'${field}')::timestamptz`;

/** One incoming row as `excluded`, every value cast (a VALUES list in FROM gives them no type). */
const EXCLUDED_ROW = `(VALUES (${COLUMNS.map((c, i) => `$${i + 1}::${TYPES[c]}`).join(', ')})) AS excluded(${COLUMN_LIST})`;
const RETURNED = `id, project_id, event_id, model, prompt_tokens, completion_tokens, cached_tokens, cost, metadata->'provided_cost' AS provided_cost`;

/**
 * The merge as update-or-insert under a lock on the call's ids: the unique key of the
 * partitioned table holds the time, which a later event may move, so ON CONFLICT on
 * (project_id, event_id) alone is not available.
 */
const MERGE_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('llm_logs:' || $1::text || ':' || $2::text, 0))`;
// Start and end may come in different events: the call's time and latency are taken from the merged pair.
const MERGE_UPDATE = `UPDATE llm_logs SET
      "timestamp" = COALESCE(${at('start_time')}, LEAST(llm_logs."timestamp", EXCLUDED."timestamp")),
      user_ref = ${pick('user_ref')}, source = ${pick('source')}, model = ${pick('model')},
      query = ${pick('query', "''")}, response = ${pick('response', "''")},
      prompt_tokens = ${pick('prompt_tokens')}, completion_tokens = ${pick('completion_tokens')},
      total_tokens = ${pick('total_tokens')}, cached_tokens = ${pick('cached_tokens')},
      latency_ms = COALESCE(GREATEST(0, EXTRACT(EPOCH FROM (${at('end_time')} - ${at('start_time')})) * 1000), ${pick('latency_ms')}),
      trace_id = ${pick('trace_id')}, span_id = ${pick('span_id')}, error = ${pick('error')},
      metadata = ${MERGED_METADATA}
    FROM ${EXCLUDED_ROW}
    WHERE llm_logs.project_id = excluded.project_id AND llm_logs.event_id = excluded.event_id
    RETURNING ${RETURNED.split(', ')
      .map((c) => (c.startsWith('metadata') ? `llm_logs.${c}` : `llm_logs.${c}`))
      .join(', ')}, false AS inserted`;
const MERGE_INSERT = `INSERT INTO llm_logs (${COLUMN_LIST}) SELECT * FROM ${EXCLUDED_ROW} RETURNING ${RETURNED}, true AS inserted`;

export interface MergedLlmLog {
  id: string;
  project_id: number;
  event_id: string;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  cost: number | null;
  /** What the client said the call cost (Langfuse's usage.totalCost / costDetails), when it did. */
  provided_cost: number | null;
  inserted: boolean;
}

/**
 * Merges events about calls into their rows (inserting the first one): each column takes
 * the newer event's value where it has one, metadata merges key by key. Idempotent: a
 * re-delivered event merges into the same values. The merged rows are then priced by
 * `costOf` (the model and the tokens may each have come in a different event), in the
 * same transaction, so no reader sees a merged call without its cost. Adds
 * "project:event_id" of the rows that were new to `fresh`; answers how many were.
 */
export async function mergeLlmLogs(
  ds: DataSource,
  records: LlmLogRecord[],
  costOf: (row: MergedLlmLog) => Promise<number | null>,
  fresh?: Set<string>,
): Promise<number> {
  let inserted = 0;
  const runner = ds.createQueryRunner();
  try {
    await runner.startTransaction();
    for (const round of uniqueRounds(records, (r) => `${r.project_id}:${r.event_id}`)) {
      for (let i = 0; i < round.length; i += ROWS_PER_STATEMENT) {
        const chunk = round.slice(i, i + ROWS_PER_STATEMENT);
        const rows: MergedLlmLog[] = [];
        for (const record of chunk) {
          const values = params([record]);
          await runner.query(MERGE_LOCK, [record.project_id, record.event_id]);
          const updated = (await runner.query(MERGE_UPDATE, values)) as [MergedLlmLog[], number] | MergedLlmLog[];
          const got = Array.isArray(updated[0]) ? (updated[0] as MergedLlmLog[]) : (updated as MergedLlmLog[]);
          rows.push(...(got.length ? got : ((await runner.query(MERGE_INSERT, values)) as MergedLlmLog[])));
        }
        const ids: string[] = [];
        const costs: Array<number | null> = [];
        for (const row of rows) {
          const cost = await costOf({ ...row, provided_cost: typeof row.provided_cost === 'number' ? row.provided_cost : null });
          ids.push(row.id);
          costs.push(cost);
          if (row.inserted) {
            inserted++;
            fresh?.add(`${row.project_id}:${row.event_id}`);
          }
        }
        await runner.query(
          `UPDATE llm_logs l SET cost = c.cost FROM unnest($1::bigint[], $2::double precision[]) AS c(id, cost)
            WHERE l.id = c.id AND l.cost IS DISTINCT FROM c.cost`,
          [ids, costs],
        );
      }
    }
    await runner.commitTransaction();
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw err;
  } finally {
    await runner.release();
  }
  return inserted;
}

import type { DataSource } from 'typeorm';
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
  for (const r of records) for (const c of COLUMNS) out.push(c === 'metadata' ? JSON.stringify(r[c]) : (r[c] ?? null));
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

import type { DataSource } from 'typeorm';
import { cappedCount, likePattern, pageQuery, pageResult, type PageRequest } from '../pagination.ts';
import { searchTerms } from './filters.ts';
import { scopeClause, type Scope } from './scope.ts';

export interface LlmLogFilters {
  search?: string;
  source?: string;
  model?: string;
  userRef?: string;
  dateFrom?: Date;
  dateTo?: Date;
  dateToExclusive?: boolean;
}

export interface LlmLogRow {
  id: string;
  project_id: number;
  event_id: string;
  timestamp: Date;
  user_ref: string | null;
  source: string | null;
  model: string | null;
  query: string;
  response: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  latency_ms: number | null;
  metadata: Record<string, unknown>;
}

/** The prompt's first characters carry a trigram index; search looks there (prompts can be megabytes). */
export const SEARCHED_QUERY_CHARS = 2000;

function where(scope: Scope, f: LlmLogFilters, params: unknown[]): string[] {
  const clauses: string[] = [];
  const s = scopeClause(scope, params);
  if (s) clauses.push(s);
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(sql(`$${params.length}`));
  };
  if (f.source) add((p) => `source = ${p}`, f.source);
  if (f.model) add((p) => `model = ${p}`, f.model);
  if (f.userRef) add((p) => `user_ref = ${p}`, f.userRef);
  if (f.dateFrom) add((p) => `"timestamp" >= ${p}`, f.dateFrom);
  if (f.dateTo) add((p) => (f.dateToExclusive ? `"timestamp" < ${p}` : `"timestamp" <= ${p}`), f.dateTo);
  if (f.search?.trim()) {
    for (const term of searchTerms(f.search)) add((p) => `left(query, ${SEARCHED_QUERY_CHARS}) ILIKE ${p}`, likePattern(term));
  }
  return clauses.length ? clauses : ['true'];
}

/** Newest first; page mode counts, cursor mode walks (timestamp, id). */
export async function listLlmLogs(ds: DataSource, scope: Scope, f: LlmLogFilters, page: PageRequest) {
  if (!scope.all && scope.projectIds.length === 0) return { count: 0, rows: [] as LlmLogRow[], hasMore: false, nextCursor: null };
  const params: unknown[] = [];
  const clauses = where(scope, f, params);
  const q = pageQuery(page, clauses, params);
  // Started and awaited together, so a failing page query never leaves the count unhandled.
  const [count, rows]: [number, LlmLogRow[]] = await Promise.all([
    cappedCount(ds, 'llm_logs', clauses.join(' AND '), params),
    ds.query(
      `SELECT id, project_id, event_id, "timestamp", user_ref, source, model, query, response,
              prompt_tokens, completion_tokens, total_tokens, latency_ms, metadata
         FROM llm_logs WHERE ${q.clauses.join(' AND ')} ORDER BY "timestamp" DESC, id DESC ${q.limit}`,
      q.params,
    ),
  ]);
  return pageResult(count, rows, page);
}

/** Seed 3's LLM log shape, plus what was lifted out of metadata and the project. */
export function serializeLlmLog(r: LlmLogRow) {
  return {
    id: Number(r.id),
    user_id: r.user_ref,
    source: r.source,
    query: r.query,
    response: r.response,
    metadata: r.metadata,
    timestamp: r.timestamp.toISOString(),
    model: r.model,
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    total_tokens: r.total_tokens,
    latency_ms: r.latency_ms,
    project: r.project_id,
  };
}

import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import {
  cappedCount,
  emptyPage,
  excerptPage,
  jsonExcerpt,
  likePattern,
  pageQuery,
  pageResult,
  textExcerpt,
  type ListPage,
  type PageRequest,
} from '../pagination.ts';
import { searchTerms } from './filters.ts';
import { scopeClause, type Scope } from '../access/index.ts';

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
  cost: number | null;
  cached_tokens: number | null;
  error: string | null;
  trace_id: string | null;
  /** What scrubbing took out before storage (src/domain/scrubbing). */
  scrubbed: Array<{ path: string; rule: string }> | null;
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

/** An LLM log as lists carry it: query and response cut (flagged), metadata left out (null) when big. */
export interface LlmLogListRow extends Omit<LlmLogRow, 'metadata'> {
  query_truncated: boolean;
  response_truncated: boolean;
  metadata: Record<string, unknown> | null;
}

const COLUMNS = `id, project_id, event_id, "timestamp", user_ref, source, model, query, response,
                 prompt_tokens, completion_tokens, total_tokens, latency_ms, metadata, cost, cached_tokens, error, trace_id, scrubbed`;
const ORDER = `"timestamp" DESC, id DESC`;

/** Newest first; page mode counts, cursor mode walks (timestamp, id). Limits default to config.lists. */
export async function listLlmLogs(
  ds: DataSource,
  scope: Scope,
  f: LlmLogFilters,
  page: PageRequest,
  limits: { textChars?: number; jsonBytes?: number } = {},
): Promise<ListPage<LlmLogListRow>> {
  if (!scope.all && scope.projectIds.length === 0) return emptyPage();
  const params: unknown[] = [];
  const clauses = where(scope, f, params);
  const q = pageQuery(page, clauses, params);
  const chars = limits.textChars ?? config.lists.textChars;
  const excerpts =
    `id, project_id, event_id, "timestamp", user_ref, source, model, ${textExcerpt('query', chars)}, ${textExcerpt('response', chars)}, ` +
    `prompt_tokens, completion_tokens, total_tokens, latency_ms, ${jsonExcerpt('metadata', limits.jsonBytes ?? config.lists.jsonBytes)}, ` +
    `cost, cached_tokens, error, trace_id, scrubbed`;
  const limited = `SELECT ${COLUMNS} FROM llm_logs WHERE ${q.clauses.join(' AND ')} ORDER BY ${ORDER} ${q.limit}`;
  // Started and awaited together, so a failing page query never leaves the count unhandled.
  const [count, rows] = await Promise.all([
    cappedCount(ds, 'llm_logs', clauses.join(' AND '), params),
    ds.query(excerptPage(excerpts, limited, ORDER), q.params) as Promise<LlmLogListRow[]>,
  ]);
  return pageResult(count, rows, page, q.offset);
}

/** One LLM log, whole, if it is in the scope's projects (else null: the caller answers 404). */
export async function findLlmLog(ds: DataSource, scope: Scope, id: string): Promise<LlmLogRow | null> {
  if (!scope.all && scope.projectIds.length === 0) return null;
  const params: unknown[] = [id];
  const inScope = scopeClause(scope, params);
  const rows: LlmLogRow[] = await ds.query(`SELECT ${COLUMNS} FROM llm_logs WHERE id = $1${inScope ? ` AND ${inScope}` : ''}`, params);
  return rows[0] ?? null;
}

/**
 * DataIdea's LLM log shape, plus what was lifted out of metadata, the project, and (added
 * fields only, so DataIdea's clients read it as before) cost in US dollars, cached tokens,
 * the error of a failed call and the trace it belongs to; list copies flag what they cut.
 */
export function serializeLlmLog(r: LlmLogRow | LlmLogListRow) {
  const cut = 'query_truncated' in r ? r : null;
  return {
    id: Number(r.id),
    user_id: r.user_ref,
    source: r.source,
    query: r.query,
    ...(cut?.query_truncated ? { query_truncated: true as const } : {}),
    response: r.response,
    ...(cut?.response_truncated ? { response_truncated: true as const } : {}),
    metadata: r.metadata ?? {},
    ...(r.metadata === null ? { metadata_truncated: true as const } : {}),
    timestamp: r.timestamp.toISOString(),
    model: r.model,
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    total_tokens: r.total_tokens,
    latency_ms: r.latency_ms,
    project: r.project_id,
    cost: r.cost,
    cached_tokens: r.cached_tokens,
    error: r.error,
    trace_id: r.trace_id,
    scrubbed: r.scrubbed ?? [],
  };
}

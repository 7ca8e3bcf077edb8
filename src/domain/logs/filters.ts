import { badRequest } from '../errors.ts';
import { LEVELS, normalizeLevel, type Level } from '../levels.ts';
import { likePattern } from '../pagination.ts';
import { scopeClause, type Scope } from '../access/index.ts';

/**
 * The log filters of the logs dashboard, DataIdea and central de erros, parsed from query strings into SQL. Every
 * clause keeps `kind = 'log'` as a literal so the planner can use the partial log
 * indexes (migration 1764000000000-Logs).
 */
export interface LogFilters {
  search?: string;
  /** Central de erros: restrict `search` to one field. */
  field?: string;
  levels?: Level[];
  source?: string;
  environment?: string;
  dateFrom?: Date;
  dateTo?: Date;
  /** Exclusive upper bound (a date-only date_to covers that whole day). */
  dateToExclusive?: boolean;
  archived?: boolean;
  userRef?: string;
}

/** "ERROR", "warning,critical", "Fatal" → levels; 400 on a name that is not one. */
export function parseLevelList(raw: string | undefined, param: string): Level[] | undefined {
  if (!raw?.trim()) return undefined;
  const levels = raw
    .split(',')
    .filter((s) => s.trim())
    .map((name) => {
      const level = normalizeLevel(name);
      if (!level)
        throw badRequest(`Unknown ${param} "${name.trim()}"`, { [param]: [`one of ${LEVELS.map((l) => l.toUpperCase()).join(', ')}`] });
      return level;
    });
  return [...new Set(levels)];
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** ISO 8601 date-time, or a plain date (date_from: its start; date_to: its whole day). */
export function parseDateParam(raw: string | undefined, param: 'date_from' | 'date_to'): { date: Date; wholeDay: boolean } | undefined {
  if (!raw?.trim()) return undefined;
  const v = raw.trim();
  const wholeDay = DATE_ONLY.test(v);
  const ms = Date.parse(wholeDay ? `${v}T00:00:00Z` : v);
  if (!Number.isFinite(ms))
    throw badRequest(`Invalid ${param}`, { [param]: ['expected an ISO 8601 date or date-time, e.g. 2024-01-01T00:00:00Z'] });
  return { date: new Date(wholeDay && param === 'date_to' ? ms + 86_400_000 : ms), wholeDay };
}

/** DRF's SearchFilter: whitespace-separated terms, each must match; quotes keep a phrase together. */
export function searchTerms(search: string): string[] {
  const terms = [...search.matchAll(/"([^"]+)"|(\S+)/g)].map((m) => (m[1] ?? m[2]).trim()).filter(Boolean);
  if (terms.length > 10) throw badRequest('Too many search terms', { search: ['at most 10 terms'] });
  return terms;
}

const SEARCH_FIELDS: Record<string, 'message' | 'service' | 'environment' | 'level'> = {
  message: 'message',
  description: 'message',
  source: 'service',
  origin: 'service',
  environment: 'environment',
  env: 'environment',
  severity: 'level',
  level: 'level',
};
export const SEARCH_FIELD_NAMES = Object.keys(SEARCH_FIELDS);

function searchClause(term: string, field: string | undefined, params: unknown[]): string {
  const column = field ? SEARCH_FIELDS[field.trim().toLowerCase()] : undefined;
  if (field && !column) throw badRequest(`Unknown search field "${field}"`, { field: [`one of ${SEARCH_FIELD_NAMES.join(', ')}`] });
  if (column === 'level') {
    const level = normalizeLevel(term);
    if (!level) throw badRequest(`Unknown severity "${term}"`, { search: ['with field=severity, search must be a severity'] });
    params.push(level);
    return `level = $${params.length}`;
  }
  params.push(likePattern(term));
  const p = `$${params.length}`;
  // message and service both carry trigram indexes: a bitmap index scan, never a seq scan.
  return column ? `${column} ILIKE ${p}` : `(message ILIKE ${p} OR service ILIKE ${p})`;
}

/** WHERE clauses (joined with AND) for logs in `scope` matching `f`; values are appended to `params`. */
export function logWhere(scope: Scope, f: LogFilters, params: unknown[]): string[] {
  const clauses = [`kind = 'log'`];
  const s = scopeClause(scope, params);
  if (s) clauses.push(s);
  const add = (sql: (p: string) => string, value: unknown) => {
    params.push(value);
    clauses.push(sql(`$${params.length}`));
  };
  if (f.levels?.length === 1) add((p) => `level = ${p}`, f.levels[0]);
  else if (f.levels?.length) add((p) => `level = ANY(${p}::text[])`, f.levels);
  if (f.source) add((p) => `service = ${p}`, f.source);
  // Case-insensitive, like central de erros' env__iexact (its clients send PRODUCTION, HOMOLOGATION, DEV).
  if (f.environment) add((p) => `lower(environment) = lower(${p})`, f.environment);
  if (f.dateFrom) add((p) => `"timestamp" >= ${p}`, f.dateFrom);
  if (f.dateTo) add((p) => (f.dateToExclusive ? `"timestamp" < ${p}` : `"timestamp" <= ${p}`), f.dateTo);
  if (f.archived !== undefined) add((p) => `archived = ${p}`, f.archived);
  if (f.userRef) add((p) => `user_ref = ${p}`, f.userRef);
  if (f.search?.trim()) for (const term of searchTerms(f.search)) clauses.push(searchClause(term, f.field, params));
  return clauses;
}

// Severity orders by rank (debug < … < critical), not alphabetically.
const LEVEL_RANK = `array_position(ARRAY['debug','info','warning','error','critical']::text[], level::text)`;
const ORDER_FIELDS: Record<string, string> = {
  timestamp: '"timestamp"',
  severity: LEVEL_RANK,
  level: LEVEL_RANK,
  source: 'service',
  environment: 'environment',
  created_at: 'received_at',
  updated_at: 'updated_at',
  project: 'project_id',
  id: 'id',
};
export const ORDERING_FIELDS = Object.keys(ORDER_FIELDS);

export interface LogOrder {
  sql: string;
  /** Cursor pagination walks (timestamp, id): only for orderings by timestamp alone. */
  keyset: 'asc' | 'desc' | null;
  /**
   * Ordering by severity alone: newest first within a severity. Listed one severity at a
   * time from the (project, level, timestamp) index instead of sorting every row.
   */
  bySeverity?: 'asc' | 'desc';
}

/** DRF-style `ordering`: a comma list of fields, each optionally prefixed by "-". Default: newest first. */
export function parseOrdering(raw: string | undefined): LogOrder {
  const parts = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === '-timestamp')) return { sql: '"timestamp" DESC, id DESC', keyset: 'desc' };
  if (parts.length === 1 && parts[0] === 'timestamp') return { sql: '"timestamp" ASC, id ASC', keyset: 'asc' };
  if (parts.length === 1 && /^-?(severity|level)$/.test(parts[0])) {
    const dir = parts[0].startsWith('-') ? 'desc' : 'asc';
    return { sql: `${LEVEL_RANK} ${dir.toUpperCase()}, "timestamp" DESC, id DESC`, keyset: null, bySeverity: dir };
  }
  const terms = parts.map((part) => {
    const desc = part.startsWith('-');
    const column = ORDER_FIELDS[desc ? part.slice(1) : part];
    if (!column)
      throw badRequest(`Unknown ordering field "${part}"`, {
        ordering: [`fields: ${ORDERING_FIELDS.join(', ')} (prefix - for descending)`],
      });
    return `${column} ${desc ? 'DESC' : 'ASC'}`;
  });
  if (!parts.some((p) => p === 'id' || p === '-id')) terms.push('id DESC'); // a stable order for paging
  return { sql: terms.join(', '), keyset: null };
}

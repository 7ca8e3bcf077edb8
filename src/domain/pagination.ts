import { badRequest } from './errors.ts';

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 50;

/** Keyset position for deep pages: the (timestamp, id) of the last row seen. */
export interface Cursor {
  ts: string;
  id: string;
}

export const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify([c.ts, c.id])).toString('base64url');

export function decodeCursor(raw: string): Cursor {
  try {
    const [ts, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [string, string];
    if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts)) || !/^\d{1,19}$/.test(String(id))) throw new Error();
    return { ts, id: String(id) };
  } catch {
    throw badRequest('Invalid cursor', { cursor: ['not a cursor this API issued'] }, 'invalid_cursor');
  }
}

export type PageRequest = { mode: 'page'; page: number; pageSize: number } | { mode: 'cursor'; cursor: Cursor | null; pageSize: number };

/** Escape LIKE metacharacters so a search for "50%" means the text "50%". */
export const likePattern = (q: string): string => `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;

/**
 * Exact counts above this many rows would cost more than the page itself (PostgreSQL
 * counts by visiting every row), so past it `count` is the planner's estimate — as
 * GitLab and many DRF deployments do. Small and filtered lists stay exact.
 */
export const EXACT_COUNT_LIMIT = 10_000;

type Db = { query(sql: string, params?: unknown[]): Promise<any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `select` is the list's query without ORDER BY/LIMIT (e.g. `SELECT 1 FROM events WHERE …`). */
export async function cappedCountOf(db: Db, select: string, params: unknown[]): Promise<number> {
  const [{ n }]: Array<{ n: string }> = await db.query(`SELECT count(*) AS n FROM (${select} LIMIT ${EXACT_COUNT_LIMIT + 1}) capped`, params);
  if (Number(n) <= EXACT_COUNT_LIMIT) return Number(n);
  const [plan]: Array<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }> = await db.query(`EXPLAIN (FORMAT JSON) ${select}`, params);
  return Math.max(EXACT_COUNT_LIMIT + 1, Math.round(plan['QUERY PLAN'][0].Plan['Plan Rows']));
}

export const cappedCount = (db: Db, table: 'events' | 'llm_logs', where: string, params: unknown[]) =>
  cappedCountOf(db, `SELECT 1 FROM ${table} WHERE ${where}`, params);

/**
 * The paging part of a list over ("timestamp", id): for a cursor page, the keyset
 * condition; for a numbered page, its offset. Answers the clauses and params to use and
 * the LIMIT/OFFSET tail, which asks for one row more than the page to learn if there is
 * a next one.
 */
export function pageQuery(page: PageRequest, clauses: string[], params: unknown[], direction: 'asc' | 'desc' = 'desc') {
  const p = [...params];
  const c = [...clauses];
  let offset = 0;
  if (page.mode === 'cursor' && page.cursor) {
    p.push(page.cursor.ts, page.cursor.id);
    c.push(`("timestamp", id) ${direction === 'desc' ? '<' : '>'} ($${p.length - 1}::timestamptz, $${p.length}::bigint)`);
  } else if (page.mode === 'page') {
    offset = (page.page - 1) * page.pageSize;
  }
  p.push(page.pageSize + 1, offset);
  return { clauses: c, params: p, offset, limit: `LIMIT $${p.length - 1} OFFSET $${p.length}` };
}

/** Drops the extra row pageQuery asked for; the next cursor (cursor pages) comes from the last row shown. */
export function pageResult<T extends { id: string; timestamp: Date }>(count: number, rows: T[], page: PageRequest) {
  const hasMore = rows.length > page.pageSize;
  if (hasMore) rows.pop();
  const last = rows.at(-1);
  return {
    count,
    rows,
    hasMore,
    nextCursor: page.mode === 'cursor' && hasMore && last ? encodeCursor({ ts: last.timestamp.toISOString(), id: last.id }) : null,
  };
}

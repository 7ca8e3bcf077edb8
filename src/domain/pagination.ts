import { badRequest } from './errors.ts';

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 50;

/**
 * Where a list goes on: a keyset position (the (timestamp, id) of the last row seen), or,
 * for orderings that have none, the offset of the next row. Clients see only the opaque
 * token in `next` links.
 */
export type Cursor = { ts: string; id: string } | { offset: number };

export const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify('offset' in c ? { offset: c.offset } : [c.ts, c.id])).toString('base64url');

export function decodeCursor(raw: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(v)) {
      const [ts, id] = v as [unknown, unknown];
      if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts)) || !/^\d{1,19}$/.test(String(id))) throw new Error();
      return { ts, id: String(id) };
    }
    const offset = (v as { offset?: unknown } | null)?.offset;
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return { offset };
    throw new Error();
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

type Db = { query(sql: string, params?: unknown[]): Promise<any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- both pg's and TypeORM's query() fit

/** `select` is the list's query without ORDER BY/LIMIT (e.g. `SELECT 1 FROM events WHERE …`). */
export async function cappedCountOf(db: Db, select: string, params: unknown[]): Promise<number> {
  const [{ n }]: Array<{ n: string }> = await db.query(
    `SELECT count(*) AS n FROM (${select} LIMIT ${EXACT_COUNT_LIMIT + 1}) capped`,
    params,
  );
  if (Number(n) <= EXACT_COUNT_LIMIT) return Number(n);
  const [plan]: Array<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }> = await db.query(
    `EXPLAIN (FORMAT JSON) ${select}`,
    params,
  );
  return Math.max(EXACT_COUNT_LIMIT + 1, Math.round(plan['QUERY PLAN'][0].Plan['Plan Rows']));
}

export const cappedCount = (db: Db, table: 'events' | 'llm_logs', where: string, params: unknown[]) =>
  cappedCountOf(db, `SELECT 1 FROM ${table} WHERE ${where}`, params);

/**
 * The paging part of a list over ("timestamp", id): for a keyset cursor, the keyset
 * condition; for a numbered page or an offset cursor, its offset. Answers the clauses and
 * params to use and the LIMIT/OFFSET tail, which asks for one row more than the page to
 * learn if there is a next one.
 */
export function pageQuery(page: PageRequest, clauses: string[], params: unknown[], direction: 'asc' | 'desc' = 'desc') {
  const p = [...params];
  const c = [...clauses];
  let offset = 0;
  const cursor = page.mode === 'cursor' ? page.cursor : null;
  if (cursor && 'offset' in cursor) {
    offset = cursor.offset;
  } else if (cursor) {
    p.push(cursor.ts, cursor.id);
    c.push(`("timestamp", id) ${direction === 'desc' ? '<' : '>'} ($${p.length - 1}::timestamptz, $${p.length}::bigint)`);
  } else if (page.mode === 'page') {
    offset = (page.page - 1) * page.pageSize;
  }
  p.push(page.pageSize + 1, offset);
  return { clauses: c, params: p, offset, limit: `LIMIT $${p.length - 1} OFFSET $${p.length}` };
}

/** A page of a list, before the HTTP edge decides how many of its rows fit in one answer. */
export interface ListPage<T> {
  count: number;
  rows: T[];
  /** More rows follow `rows` (the query found one beyond the page). */
  hasMore: boolean;
  /** The position of rows[0] in the whole list (for offset continuations). */
  offset: number;
  /** The list is ordered by ("timestamp", id), so a keyset cursor can continue it. */
  keyset: boolean;
}

/** Drops the extra row pageQuery asked for. */
export function pageResult<T>(count: number, rows: T[], page: PageRequest, offset: number, keyset = true): ListPage<T> {
  const hasMore = rows.length > page.pageSize;
  if (hasMore) rows.pop();
  return { count, rows, hasMore, offset, keyset };
}

/**
 * The cursor of the rows after the first `shown` of this page: a keyset position from
 * the last row shown when the order allows one (stable while rows arrive), else an offset.
 */
export function cursorAfter<T extends { id: string; timestamp: Date }>(page: ListPage<T>, shown: number): string {
  const last = page.rows[shown - 1];
  if (page.keyset && last) return encodeCursor({ ts: last.timestamp.toISOString(), id: last.id });
  return encodeCursor({ offset: page.offset + shown });
}

/** The empty page of a caller who can see no project. */
export const emptyPage = <T>(): ListPage<T> => ({ count: 0, rows: [], hasMore: false, offset: 0, keyset: true });

/**
 * List copies of big columns (a log line may be a megabyte; a page of them must not be).
 * Applied to the rows of an already limited page (see `excerptPage`), never below a sort.
 *
 * Text: the first `chars` characters and `<column>_truncated`. Both read only a prefix of
 * the value (PostgreSQL fetches a slice of a TOASTed value), so a 1 MB message costs what
 * its first kilobytes do.
 */
export const textExcerpt = (column: string, chars: number): string => {
  const n = Math.trunc(chars);
  return `left(${column}, ${n}) AS ${column}, coalesce(length(left(${column}, ${n + 1})) > ${n}, false) AS ${column}_truncated`;
};

/**
 * JSON: JSON cannot be cut and stay JSON, so a value whose text passes `bytes` comes back
 * NULL, which these NOT NULL columns never are: readers take NULL as "left out".
 */
export const jsonExcerpt = (column: string, bytes: number): string =>
  `CASE WHEN octet_length(${column}::text) > ${Math.trunc(bytes)} THEN NULL ELSE ${column} END AS ${column}`;

/**
 * Wraps a list query that already has its ORDER BY and LIMIT, so that the excerpt
 * expressions in `columns` run on the page's rows only: below a sort, PostgreSQL would
 * evaluate them for every matching row (and sort the copies).
 */
export const excerptPage = (columns: string, limited: string, order: string): string =>
  `SELECT ${columns} FROM (${limited}) page ORDER BY ${order}`;

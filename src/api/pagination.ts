import type { Request, Response } from 'express';
import { z } from 'zod';
import { config } from '../config.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, cursorAfter, decodeCursor, type ListPage, type PageRequest } from '../domain/pagination.ts';

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  cursor: z.string().max(200).optional().meta({ description: 'Keyset cursor from a previous `next` link, for deep pages' }),
});

export function pageRequest(q: z.infer<typeof PageQuery>): PageRequest {
  const pageSize = q.page_size ?? DEFAULT_PAGE_SIZE;
  if (q.cursor !== undefined) return { mode: 'cursor', cursor: q.cursor ? decodeCursor(q.cursor) : null, pageSize };
  return { mode: 'page', page: q.page ?? 1, pageSize };
}

/** An absolute URL to this same list with some query parameters replaced, as DRF renders next/previous. */
function linkTo(req: Request, changes: Record<string, string | null>): string {
  const base = config.http.publicUrl ?? `${req.protocol}://${req.get('host')}`;
  const url = new URL(req.originalUrl, base);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  return url.toString();
}

export function pageLinks(req: Request, page: PageRequest, result: { hasMore: boolean; nextCursor: string | null }) {
  if (page.mode === 'cursor') {
    return { next: result.nextCursor ? linkTo(req, { cursor: result.nextCursor, page: null }) : null, previous: null };
  }
  return {
    next: result.hasMore ? linkTo(req, { page: String(page.page + 1) }) : null,
    previous: page.page > 1 ? linkTo(req, { page: page.page === 2 ? null : String(page.page - 1) }) : null,
  };
}

/**
 * Answers a list page as `{count, next, previous, results}`, bounded in bytes: items are
 * serialized one by one and the page stops before the one that would take it past
 * config.lists.pageBytes (the first item always goes). A page cut short continues with a
 * cursor link from its last item shown (a keyset position, or an offset for orderings
 * without one), so following `next` visits every row exactly once; a full numbered page
 * keeps DRF's `page=N+1` link. The body is written from the pieces already serialized.
 */
export function sendPage<T extends { id: string; timestamp: Date }>(
  req: Request,
  res: Response,
  page: PageRequest,
  result: ListPage<T>,
  serialize: (row: T) => unknown,
  maxBytes = config.lists.pageBytes,
): void {
  const items: string[] = [];
  let bytes = 0;
  for (const row of result.rows) {
    const json = JSON.stringify(serialize(row));
    const size = Buffer.byteLength(json) + 1; // and its comma
    if (items.length > 0 && bytes + size > maxBytes) break;
    items.push(json);
    bytes += size;
  }
  const cut = items.length < result.rows.length;
  let next: string | null = null;
  if (cut || (result.hasMore && page.mode === 'cursor')) next = linkTo(req, { cursor: cursorAfter(result, items.length), page: null });
  else if (result.hasMore && page.mode === 'page') next = linkTo(req, { page: String(page.page + 1) });
  const previous = page.mode === 'page' && page.page > 1 ? linkTo(req, { page: page.page === 2 ? null : String(page.page - 1) }) : null;
  const body = `${JSON.stringify({ count: result.count, next, previous }).slice(0, -1)},"results":[${items.join(',')}]}`;
  res.status(200).setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

import type { Request } from 'express';
import { z } from 'zod';
import { config } from '../config.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decodeCursor, type PageRequest } from '../domain/pagination.ts';

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

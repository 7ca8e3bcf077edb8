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

import type { DataSource, EntityManager } from 'typeorm';
import type { UploaderKind } from '../../entities/CrashDump.ts';
import { badRequest } from '../errors.ts';
import { scopeClause, type Scope } from '../access/index.ts';
import { isDumpId } from './keys.ts';

export interface DumpRow {
  id: string;
  project_id: number;
  original_name: string;
  label: string | null;
  size: string;
  sha256: string;
  content_type: string;
  time: Date;
  updated_at: Date;
  archived: boolean;
  archived_at: Date | null;
  uploader_kind: UploaderKind;
  uploader_user_id: number | null;
  uploader_key_id: number | null;
  info: Record<string, unknown>;
  /** What scrubbing took out before storage (src/domain/scrubbing). */
  scrubbed: Array<{ path: string; rule: string }> | null;
}

export const DUMP_COLUMNS = `id, project_id, original_name, label, size, sha256, content_type, "time", updated_at, archived, archived_at,
  uploader_kind, uploader_user_id, uploader_key_id, info, scrubbed`;

export interface DumpFilters {
  label?: string;
  archived?: boolean;
  dateFrom?: Date;
  dateTo?: Date;
  /** dateTo is the day after a date-only date_to: exclusive. */
  dateToExclusive?: boolean;
}

/** The crash store's fields first (id, original_name, stored_name, time, label, archived), then ours. */
export function serializeDump(r: DumpRow) {
  return {
    id: r.id,
    original_name: r.original_name,
    stored_name: r.id,
    time: r.time.toISOString(),
    label: r.label,
    archived: r.archived,
    archived_at: r.archived_at?.toISOString() ?? null,
    size: Number(r.size),
    sha256: r.sha256,
    content_type: r.content_type,
    project: r.project_id,
    uploader: { kind: r.uploader_kind, user: r.uploader_user_id, api_key: r.uploader_key_id },
    updated_at: r.updated_at.toISOString(),
    info: r.info,
    scrubbed: r.scrubbed ?? [],
  };
}
export type DumpOut = ReturnType<typeof serializeDump>;

export async function findDump(db: DataSource | EntityManager, id: string, opts: { lock?: boolean } = {}): Promise<DumpRow | null> {
  if (!isDumpId(id)) return null;
  const rows: DumpRow[] = await db.query(`SELECT ${DUMP_COLUMNS} FROM crash_dumps WHERE id = $1${opts.lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

/**
 * The deep-page position: (time, id) of the last row seen. Dump ids are uuids, so not
 * the shared numeric cursor; times are stored to the millisecond so they survive the
 * round trip through a JavaScript Date.
 */
interface DumpCursor {
  time: string;
  id: string;
}
const encodeCursor = (c: DumpCursor) => Buffer.from(JSON.stringify([c.time, c.id])).toString('base64url');

export function decodeDumpCursor(raw: string): DumpCursor {
  try {
    const [time, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [string, string];
    if (typeof time !== 'string' || Number.isNaN(Date.parse(time)) || typeof id !== 'string' || !isDumpId(id)) throw new Error();
    return { time, id };
  } catch {
    throw badRequest('Invalid cursor', { cursor: ['not a cursor this API issued'] }, 'invalid_cursor');
  }
}

export type DumpPage = { mode: 'page'; page: number; pageSize: number } | { mode: 'cursor'; cursor: DumpCursor | null; pageSize: number };

/** Newest first, in the projects `scope` allows. */
export async function listDumps(ds: DataSource, scope: Scope, f: DumpFilters, page: DumpPage) {
  const params: unknown[] = [];
  const clauses: string[] = [];
  const s = scopeClause(scope, params);
  if (s) clauses.push(s);
  if (f.label !== undefined) {
    params.push(f.label);
    clauses.push(`label = $${params.length}`);
  }
  if (f.archived !== undefined) {
    params.push(f.archived);
    clauses.push(`archived = $${params.length}`);
  }
  if (f.dateFrom) {
    params.push(f.dateFrom);
    clauses.push(`"time" >= $${params.length}`);
  }
  if (f.dateTo) {
    params.push(f.dateTo);
    clauses.push(`"time" ${f.dateToExclusive ? '<' : '<='} $${params.length}`);
  }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const p = [...params];
  const c = [...clauses];
  let offset = 0;
  if (page.mode === 'cursor' && page.cursor) {
    p.push(page.cursor.time, page.cursor.id);
    c.push(`("time", id) < ($${p.length - 1}::timestamptz, $${p.length}::uuid)`);
  } else if (page.mode === 'page') {
    offset = (page.page - 1) * page.pageSize;
  }
  p.push(page.pageSize + 1, offset);
  // Started and awaited together, so a failing page query never leaves the count unhandled.
  const [[{ n }], rows]: [Array<{ n: string }>, DumpRow[]] = await Promise.all([
    ds.query(`SELECT count(*) AS n FROM crash_dumps ${where}`, params),
    ds.query(
      `SELECT ${DUMP_COLUMNS} FROM crash_dumps ${c.length ? `WHERE ${c.join(' AND ')}` : ''}
        ORDER BY "time" DESC, id DESC LIMIT $${p.length - 1} OFFSET $${p.length}`,
      p,
    ),
  ]);
  const hasMore = rows.length > page.pageSize;
  if (hasMore) rows.pop();
  const last = rows.at(-1);
  return {
    count: Number(n),
    rows,
    hasMore,
    nextCursor: hasMore && last ? encodeCursor({ time: last.time.toISOString(), id: last.id }) : null,
  };
}

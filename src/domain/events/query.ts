import type { DataSource } from 'typeorm';
import type { Level } from '../levels.ts';
import { encodeCursor, likePattern, type PageRequest } from '../pagination.ts';
import type { EventKind } from './record.ts';

export interface EventFilters {
  projectId: number;
  /** Omitted: both kinds (an issue's events may include error logs). */
  kind?: EventKind;
  issueId?: string;
  search?: string;
  levels?: Level[];
  environment?: string;
}

export interface EventRow {
  id: string;
  event_id: string;
  event_type: string | null;
  exception_type: string | null;
  message: string;
  stacktrace: string | null;
  level: Level;
  environment: string | null;
  service: string | null;
  timestamp: Date;
  received_at: Date;
  tags: Record<string, unknown>;
  extra: Record<string, unknown>;
  issue_id: string | null;
}

function where(f: EventFilters) {
  const clauses = ['project_id = $1'];
  const params: unknown[] = [f.projectId];
  if (f.kind) {
    params.push(f.kind);
    clauses.push(`kind = $${params.length}`);
  }
  if (f.issueId) {
    params.push(f.issueId);
    clauses.push(`issue_id = $${params.length}`);
  }
  if (f.search) {
    params.push(likePattern(f.search));
    // Both columns carry trigram indexes, so this is a bitmap index scan, not a seq scan.
    clauses.push(`(message ILIKE $${params.length} OR exception_type ILIKE $${params.length})`);
  }
  if (f.levels?.length) {
    params.push(f.levels);
    clauses.push(`level = ANY($${params.length}::text[])`);
  }
  if (f.environment) {
    params.push(f.environment);
    clauses.push(`environment = $${params.length}`);
  }
  return { clauses, params };
}

const SELECT = `SELECT id, event_id, event_type, exception_type, message, stacktrace, level, environment, service,
                       "timestamp", received_at, tags, extra, issue_id FROM events`;

/** Newest first. Page mode counts; cursor mode (deep pages) walks the index from a keyset position. */
export async function listEvents(ds: DataSource, f: EventFilters, page: PageRequest) {
  const { clauses, params } = where(f);
  const countPromise: Promise<Array<{ n: string }>> = ds.query(`SELECT count(*) AS n FROM events WHERE ${clauses.join(' AND ')}`, params);

  const p = [...params];
  const c = [...clauses];
  let offset = 0;
  if (page.mode === 'cursor' && page.cursor) {
    p.push(page.cursor.ts, page.cursor.id);
    c.push(`("timestamp", id) < ($${p.length - 1}::timestamptz, $${p.length}::bigint)`);
  } else if (page.mode === 'page') {
    offset = (page.page - 1) * page.pageSize;
  }
  p.push(page.pageSize + 1, offset);
  const rows: EventRow[] = await ds.query(
    `${SELECT} WHERE ${c.join(' AND ')} ORDER BY "timestamp" DESC, id DESC LIMIT $${p.length - 1} OFFSET $${p.length}`,
    p,
  );
  const [{ n }] = await countPromise;
  const hasMore = rows.length > page.pageSize;
  if (hasMore) rows.pop();
  const last = rows.at(-1);
  return {
    count: Number(n),
    rows,
    hasMore,
    nextCursor: hasMore && last ? encodeCursor({ ts: last.timestamp.toISOString(), id: last.id }) : null,
  };
}

/** Seed 1's field names, plus id and received_at. */
export function serializeEvent(r: EventRow) {
  return {
    id: Number(r.id),
    event_id: r.event_id,
    event_type: r.event_type,
    exception_type: r.exception_type,
    message: r.message,
    stacktrace: r.stacktrace,
    level: r.level,
    environment: r.environment,
    service_name: r.service,
    timestamp: r.timestamp.toISOString(),
    received_at: r.received_at.toISOString(),
    tags: r.tags,
    extra: r.extra,
    issue: r.issue_id === null ? null : Number(r.issue_id),
  };
}

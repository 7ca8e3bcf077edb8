import type { DataSource } from 'typeorm';
import { badRequest } from '../errors.ts';
import { LEVELS, type Level } from '../levels.ts';
import { cappedCount, encodeCursor, type PageRequest } from '../pagination.ts';
import { logWhere, type LogFilters, type LogOrder } from './filters.ts';
import type { Scope } from './scope.ts';

export interface LogRow {
  id: string;
  project_id: number;
  event_id: string;
  timestamp: Date;
  received_at: Date;
  updated_at: Date;
  level: Level;
  message: string;
  service: string | null;
  environment: string | null;
  archived: boolean;
  user_ref: string | null;
  extra: Record<string, unknown>;
}

const COLUMNS = `id, project_id, event_id, "timestamp", received_at, updated_at, level, message, service, environment, archived, user_ref`;
/** Seed 3's shape also needs metadata (extra); seed 2's does not, so its lists skip the jsonb. */
const COLUMNS_WITH_EXTRA = `${COLUMNS}, extra`;

export interface ListOptions {
  order: LogOrder;
  page: PageRequest;
  withExtra?: boolean;
}

/** A page of logs: page mode counts; cursor mode (deep pages) walks the (timestamp, id) index from a keyset position. */
export async function listLogs(ds: DataSource, scope: Scope, f: LogFilters, o: ListOptions) {
  if (!scope.all && scope.projectIds.length === 0) return { count: 0, rows: [] as LogRow[], hasMore: false, nextCursor: null };
  const params: unknown[] = [];
  const clauses = logWhere(scope, f, params);
  const p = [...params];
  const c = [...clauses];
  let offset = 0;
  if (o.page.mode === 'cursor') {
    if (!o.order.keyset) throw badRequest('cursor pagination needs ordering by timestamp or -timestamp', { cursor: ['use page instead'] }, 'cursor_unsupported');
    if (o.page.cursor) {
      p.push(o.page.cursor.ts, o.page.cursor.id);
      c.push(`("timestamp", id) ${o.order.keyset === 'desc' ? '<' : '>'} ($${p.length - 1}::timestamptz, $${p.length}::bigint)`);
    }
  } else {
    offset = (o.page.page - 1) * o.page.pageSize;
  }
  const columns = o.withExtra ? COLUMNS_WITH_EXTRA : COLUMNS;
  p.push(o.page.pageSize + 1, offset);
  const limit = `LIMIT $${p.length - 1} OFFSET $${p.length}`;
  let sql = `SELECT ${columns} FROM events WHERE ${c.join(' AND ')} ORDER BY ${o.order.sql} ${limit}`;
  if (o.order.bySeverity) {
    // One index range per severity, each cut at offset + limit rows: at most 5 × that to sort,
    // instead of every matching row (measured 400 ms → a few ms at 1M logs).
    p.push(offset + o.page.pageSize + 1);
    const levels = o.order.bySeverity === 'desc' ? [...LEVELS].reverse() : LEVELS;
    const branches = levels.map(
      (level) => `(SELECT ${columns} FROM events WHERE ${c.join(' AND ')} AND level = '${level}' ORDER BY "timestamp" DESC, id DESC LIMIT $${p.length})`,
    );
    sql = `SELECT * FROM (${branches.join(' UNION ALL ')}) by_severity ORDER BY ${o.order.sql} ${limit}`;
  }
  // Both queries start together and are awaited together: a failing page query must not
  // leave the count's promise without a handler (an unhandled rejection ends the process).
  const [count, rows]: [number, LogRow[]] = await Promise.all([cappedCount(ds, 'events', clauses.join(' AND '), params), ds.query(sql, p)]);
  const hasMore = rows.length > o.page.pageSize;
  if (hasMore) rows.pop();
  const last = rows.at(-1);
  return {
    count,
    rows,
    hasMore,
    nextCursor: o.page.mode === 'cursor' && hasMore && last ? encodeCursor({ ts: last.timestamp.toISOString(), id: last.id }) : null,
  };
}

/** One log by id, whatever its project (the caller checks access), or null. Error events are not logs. */
export async function findLog(ds: DataSource, id: string): Promise<LogRow | null> {
  const rows: LogRow[] = await ds.query(`SELECT ${COLUMNS_WITH_EXTRA} FROM events WHERE id = $1 AND kind = 'log'`, [id]);
  return rows[0] ?? null;
}

export interface LogChanges {
  message?: string;
  level?: Level;
  service?: string | null;
  environment?: string | null;
  timestamp?: string;
  archived?: boolean;
}

const CHANGE_COLUMNS: Record<keyof LogChanges, string> = {
  message: 'message',
  level: 'level',
  service: 'service',
  environment: 'environment',
  timestamp: '"timestamp"',
  archived: 'archived',
};

export async function updateLog(ds: DataSource, id: string, changes: LogChanges): Promise<LogRow | null> {
  const sets = ['updated_at = now()'];
  const params: unknown[] = [id];
  for (const [key, value] of Object.entries(changes) as Array<[keyof LogChanges, unknown]>) {
    if (value === undefined) continue;
    params.push(value);
    sets.push(`${CHANGE_COLUMNS[key]} = $${params.length}`);
  }
  const [rows]: [LogRow[], number] = await ds.query(
    `UPDATE events SET ${sets.join(', ')} WHERE id = $1 AND kind = 'log' RETURNING ${COLUMNS_WITH_EXTRA}`,
    params,
  );
  return rows[0] ?? null;
}

export async function deleteLog(ds: DataSource, id: string): Promise<void> {
  await ds.query(`DELETE FROM events WHERE id = $1 AND kind = 'log'`, [id]);
}

/** Seed 2's log shape (severity UPPERCASE, source), plus environment, project and archived. */
export function serializeLog(r: Pick<LogRow, 'id' | 'project_id' | 'timestamp' | 'received_at' | 'updated_at' | 'level' | 'message' | 'service' | 'environment' | 'archived'>) {
  return {
    id: Number(r.id),
    timestamp: r.timestamp.toISOString(),
    message: r.message,
    severity: r.level.toUpperCase(),
    source: r.service,
    created_at: r.received_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    environment: r.environment,
    project: r.project_id,
    archived: r.archived,
  };
}
export type LogOut = ReturnType<typeof serializeLog>;

/** Seed 3's event log shape: level lowercase, metadata = extra, user_id = the client's own user id. */
export function serializeEventLog(r: LogRow) {
  return {
    id: Number(r.id),
    user_id: r.user_ref,
    message: r.message,
    level: r.level,
    metadata: r.extra,
    timestamp: r.timestamp.toISOString(),
    project: r.project_id,
  };
}

import type { DataSource } from 'typeorm';
import { scopeClause, type Scope } from '../access/index.ts';
import { cappedCountOf, pageQuery, pageResult, type ListPage, type PageRequest } from '../pagination.ts';

export interface AuditFilter {
  scope: Scope;
  /** `user:12`, `api_key:3`, or a bare user id. */
  actorType?: string;
  actorId?: number;
  /** A prefix: `project` matches `project.update` and `project.member.add`. */
  action?: string;
  targetType?: string;
  targetId?: string;
  projectId?: number;
  since?: Date;
  until?: Date;
}

export interface AuditRow {
  id: string;
  timestamp: Date;
  actor_type: string;
  actor_id: number | null;
  actor_label: string;
  action: string;
  target_type: string;
  target_id: string | null;
  project_id: number | null;
  changes: Record<string, [unknown, unknown]>;
  ip: string | null;
  user_agent: string | null;
}

const likePrefix = (v: string) => `${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * A page of the audit log, newest first, within the caller's scope (entries without a
 * project — sign-ins, users — are in staff's scope only). Keyset-paged on (time, id) like
 * the other lists: the inner select names `time` "timestamp" so pagination.ts's cursor applies.
 */
export async function listAuditLog(ds: DataSource, f: AuditFilter, page: PageRequest): Promise<ListPage<AuditRow>> {
  const params: unknown[] = [];
  const clauses: string[] = [];
  const scoped = scopeClause(f.scope, params);
  if (scoped) clauses.push(scoped);
  const eq = (column: string, value: unknown) => {
    if (value === undefined) return;
    params.push(value);
    clauses.push(`${column} = $${params.length}`);
  };
  eq('actor_type', f.actorType);
  eq('actor_id', f.actorId);
  eq('target_type', f.targetType);
  eq('target_id', f.targetId);
  eq('project_id', f.projectId);
  if (f.action) {
    params.push(f.action, likePrefix(f.action));
    clauses.push(`(action = $${params.length - 1} OR action LIKE $${params.length})`);
  }
  if (f.since) {
    params.push(f.since);
    clauses.push(`"timestamp" >= $${params.length}`);
  }
  if (f.until) {
    params.push(f.until);
    clauses.push(`"timestamp" < $${params.length}`);
  }
  const from = `(SELECT a.*, a.time AS "timestamp" FROM audit_log a) e`;
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const count = await cappedCountOf(ds, `SELECT 1 FROM ${from} ${where}`, params);
  const q = pageQuery(page, clauses, params);
  const pagedWhere = q.clauses.length ? `WHERE ${q.clauses.join(' AND ')}` : '';
  const rows: AuditRow[] = await ds.query(
    `SELECT id, "timestamp", actor_type, actor_id, actor_label, action, target_type, target_id, project_id, changes, ip, user_agent
       FROM ${from} ${pagedWhere} ORDER BY "timestamp" DESC, id DESC ${q.limit}`,
    q.params,
  );
  return pageResult(count, rows, page, q.offset);
}

export const serializeAuditRow = (r: AuditRow) => ({
  id: Number(r.id),
  time: r.timestamp.toISOString(),
  actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label },
  action: r.action,
  target: { type: r.target_type, id: r.target_id },
  project: r.project_id,
  changes: r.changes,
  ip: r.ip,
  user_agent: r.user_agent,
});

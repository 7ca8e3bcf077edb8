import type { DataSource } from 'typeorm';
import { notFound } from '../errors.ts';
import { requireProjectRole, type Actor } from '../projects/access.ts';

/**
 * Which projects a read may touch (invariant 3, tenancy): one project the caller can
 * see, every project they own or belong to, or — for staff — everything.
 */
export type Scope = { all: true } | { all: false; projectIds: number[] };

export async function readScope(ds: DataSource, actor: Actor, projectId?: number): Promise<Scope> {
  if (projectId !== undefined) {
    await requireProjectRole(ds, actor, projectId, 'viewer');
    return { all: false, projectIds: [projectId] };
  }
  if (actor.isStaff) return { all: true };
  const rows: Array<{ id: number }> = await ds.query(
    `SELECT id FROM projects WHERE owner_id = $1
     UNION SELECT project_id FROM project_members WHERE user_id = $1`,
    [actor.id],
  );
  return { all: false, projectIds: rows.map((r) => r.id).sort((a, b) => a - b) };
}

/**
 * A SQL condition on `column` for the scope, appended to `params`. One project is an
 * equality (so the planner uses the per-project indexes); several an ANY.
 */
export function scopeClause(scope: Scope, params: unknown[], column = 'project_id'): string | null {
  if (scope.all) return null;
  if (scope.projectIds.length === 1) {
    params.push(scope.projectIds[0]);
    return `${column} = $${params.length}`;
  }
  params.push(scope.projectIds);
  return `${column} = ANY($${params.length}::int[])`;
}

export const scopeAllows = (scope: Scope, projectId: number): boolean => scope.all || scope.projectIds.includes(projectId);

/** Seed 2's writes without a `project` go to the caller's personal project. */
export async function personalProject(ds: DataSource, userId: number): Promise<number> {
  const rows: Array<{ id: number }> = await ds.query(
    `SELECT id FROM projects WHERE owner_id = $1 AND is_personal ORDER BY id LIMIT 1`,
    [userId],
  );
  if (!rows[0]) throw notFound('You have no personal project; send "project"', 'no_personal_project');
  return rows[0].id;
}

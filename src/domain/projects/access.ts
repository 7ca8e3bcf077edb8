import type { DataSource } from 'typeorm';
import type { MemberRole } from '../../entities/ProjectMember.ts';
import { forbidden, notFound } from '../errors.ts';

/** Seed 1's roles, plus staff (sees and manages everything). */
export type ProjectRole = 'owner' | MemberRole | 'staff';

const RANK: Record<ProjectRole, number> = { viewer: 1, member: 2, admin: 3, owner: 4, staff: 4 };

export interface Actor {
  id: number;
  isStaff: boolean;
}

/** The caller's role in a project, or null when they cannot see it (or it does not exist). */
export async function roleIn(ds: DataSource, actor: Actor, projectId: number): Promise<ProjectRole | null> {
  const rows: Array<{ owner_id: number; role: MemberRole | null }> = await ds.query(
    `SELECT p.owner_id, m.role
       FROM projects p
       LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $2
      WHERE p.id = $1`,
    [projectId, actor.id],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.owner_id === actor.id) return 'owner';
  if (row.role) return row.role;
  return actor.isStaff ? 'staff' : null;
}

/**
 * Tenancy in one call: a project the caller cannot see is 404 (its existence is not
 * revealed); one they can see but whose `minimum` role they lack is 403.
 */
export async function requireProjectRole(ds: DataSource, actor: Actor, projectId: number, minimum: ProjectRole = 'viewer'): Promise<ProjectRole> {
  const role = Number.isSafeInteger(projectId) && projectId > 0 ? await roleIn(ds, actor, projectId) : null;
  if (!role) throw notFound('Project not found');
  if (RANK[role] < RANK[minimum]) throw forbidden();
  return role;
}

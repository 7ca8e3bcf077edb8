import type { DataSource } from 'typeorm';
import type { MemberRole } from '../../entities/ProjectMember.ts';
import { forbidden, notFound } from '../errors.ts';

/** Seed 1's roles, plus staff (sees and manages everything, like the owner). */
export type ProjectRole = 'owner' | MemberRole | 'staff';

/**
 * What each role may do, as seed 1 defines it:
 * owner — all, including delete and transfer; admin — edit the project, manage members
 * (except the owner) and keys; member — view and edit/archive/delete data; viewer — read.
 */
export type ProjectAction =
  | 'view'
  | 'edit_data'
  | 'triage'
  | 'edit_project'
  | 'manage_members'
  | 'manage_keys'
  | 'delete_project'
  | 'transfer_project';

const ALLOWED: Record<ProjectAction, ReadonlyArray<ProjectRole>> = {
  view: ['viewer', 'member', 'admin', 'owner', 'staff'],
  edit_data: ['member', 'admin', 'owner', 'staff'],
  // Issue workflow (assign, resolve, ignore, comment) and release/source map uploads.
  triage: ['member', 'admin', 'owner', 'staff'],
  edit_project: ['admin', 'owner', 'staff'],
  manage_members: ['admin', 'owner', 'staff'],
  manage_keys: ['admin', 'owner', 'staff'],
  delete_project: ['owner', 'staff'],
  transfer_project: ['owner', 'staff'],
};

export const can = (role: ProjectRole, action: ProjectAction): boolean => ALLOWED[action].includes(role);

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
 * Tenancy and roles in one call: a project the caller cannot see is 404 (its existence
 * is not revealed); one they can see but may not do `action` in is 403.
 */
export async function authorize(ds: DataSource, actor: Actor, projectId: number, action: ProjectAction = 'view'): Promise<ProjectRole> {
  const role = Number.isSafeInteger(projectId) && projectId > 0 && projectId < 2 ** 31 ? await roleIn(ds, actor, projectId) : null;
  if (!role) throw notFound('Project not found');
  if (!can(role, action)) throw forbidden(`Your role (${role}) does not allow this`);
  return role;
}

const MIN_ROLE_ACTION: Record<ProjectRole, ProjectAction> = {
  viewer: 'view',
  member: 'edit_data',
  admin: 'manage_members',
  owner: 'delete_project',
  staff: 'delete_project',
};

/** Older call style: at least `minimum`'s rights. */
export function requireProjectRole(ds: DataSource, actor: Actor, projectId: number, minimum: ProjectRole = 'viewer'): Promise<ProjectRole> {
  return authorize(ds, actor, projectId, MIN_ROLE_ACTION[minimum]);
}

/** Ids of every project the actor can see (staff: all). For list queries. */
export async function visibleProjectIds(ds: DataSource, actor: Actor): Promise<number[] | 'all'> {
  if (actor.isStaff) return 'all';
  const rows: Array<{ id: number }> = await ds.query(
    `SELECT id FROM projects WHERE owner_id = $1
     UNION SELECT project_id FROM project_members WHERE user_id = $1`,
    [actor.id],
  );
  return rows.map((r) => r.id);
}

/** The actor's personal project: the default target of user-scoped writes. */
export async function personalProjectId(ds: DataSource, userId: number): Promise<number> {
  const rows: Array<{ id: number }> = await ds.query(
    `SELECT id FROM projects WHERE owner_id = $1 AND is_personal ORDER BY id LIMIT 1`,
    [userId],
  );
  if (!rows[0]) throw notFound('You have no personal project; pass "project"');
  return rows[0].id;
}

import type { MemberRole } from '../../entities/ProjectMember.ts';

/** Panties' roles, plus staff (sees and manages everything, like the owner). */
export type ProjectRole = 'owner' | MemberRole | 'staff';

/**
 * What each role may do, as Panties defines it:
 * owner — all, including delete and transfer; admin — edit the project, manage members
 * (except the owner), keys and alerts; member — view, edit/archive/delete data and triage issues; viewer — read.
 * Every permission question in the code base is one of these actions.
 */
export type ProjectAction =
  | 'view'
  | 'edit_data'
  | 'triage'
  | 'edit_project'
  | 'manage_members'
  | 'manage_keys'
  | 'manage_alerts'
  | 'manage_quotas'
  | 'delete_project'
  | 'transfer_project'
  | 'view_audit';

const ALLOWED: Record<ProjectAction, ReadonlyArray<ProjectRole>> = {
  view: ['viewer', 'member', 'admin', 'owner', 'staff'],
  edit_data: ['member', 'admin', 'owner', 'staff'],
  // The issue workflow (assign, resolve, ignore, comment) and release/source map uploads.
  triage: ['member', 'admin', 'owner', 'staff'],
  edit_project: ['admin', 'owner', 'staff'],
  manage_members: ['admin', 'owner', 'staff'],
  manage_keys: ['admin', 'owner', 'staff'],
  manage_alerts: ['admin', 'owner', 'staff'],
  // Quota and spike protection overrides for the project and its keys.
  manage_quotas: ['admin', 'owner', 'staff'],
  delete_project: ['owner', 'staff'],
  transfer_project: ['owner', 'staff'],
  // The audit log of a project: who changed what (issue 16).
  view_audit: ['admin', 'owner', 'staff'],
};

export const can = (role: ProjectRole, action: ProjectAction): boolean => ALLOWED[action].includes(role);

/** The member roles (project_members.role) that allow `action`; the owner and staff are handled apart. */
export const memberRolesAllowed = (action: ProjectAction): MemberRole[] =>
  ALLOWED[action].filter((r): r is MemberRole => r !== 'owner' && r !== 'staff');

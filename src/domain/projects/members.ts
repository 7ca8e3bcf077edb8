import type { DataSource } from 'typeorm';
import { ProjectMember, type MemberRole } from '../../entities/ProjectMember.ts';
import { announceAccessChange } from '../accounts/accessChanges.ts';
import { forbidden, notFound } from '../errors.ts';
import { can, type ProjectRole } from '../access/index.ts';

// Members join by accepting an invitation (./invitations.ts): nothing here adds one, so
// nobody is put in a project without their consent.

export interface MemberRow {
  id: number;
  user_id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: MemberRole | 'owner';
  invited_by: number | null;
  created_at: Date;
}

/** The owner first (role "owner", no membership id), then members by join date. */
export async function listMembers(ds: DataSource, projectId: number) {
  const rows: MemberRow[] = await ds.query(
    `SELECT NULL::int AS id, u.id AS user_id, u.email, u.first_name, u.last_name, 'owner' AS role, NULL::int AS invited_by,
            p.created_at, 0 AS sort
       FROM projects p JOIN users u ON u.id = p.owner_id WHERE p.id = $1
     UNION ALL
     SELECT m.id, u.id, u.email, u.first_name, u.last_name, m.role, m.invited_by_id, m.created_at, 1
       FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1
     ORDER BY sort, created_at, id`,
    [projectId],
  );
  return rows.map(serializeMember);
}

export function serializeMember(r: MemberRow) {
  return {
    id: r.id,
    user: { id: r.user_id, email: r.email, first_name: r.first_name, last_name: r.last_name },
    role: r.role,
    invited_by: r.invited_by,
    created_at: new Date(r.created_at).toISOString(),
  };
}

export async function memberRow(ds: DataSource, projectId: number, memberId: number): Promise<MemberRow> {
  const rows: MemberRow[] = await ds.query(
    `SELECT m.id, u.id AS user_id, u.email, u.first_name, u.last_name, m.role, m.invited_by_id AS invited_by, m.created_at
       FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND m.id = $2`,
    [projectId, memberId],
  );
  if (!rows[0]) throw notFound('Member not found');
  return rows[0];
}

export async function changeMemberRole(ds: DataSource, projectId: number, memberId: number, role: MemberRole) {
  const row = await memberRow(ds, projectId, memberId);
  await ds.getRepository(ProjectMember).update({ id: memberId, projectId }, { role });
  await announceAccessChange({ users: [row.user_id] });
  return serializeMember(await memberRow(ds, projectId, memberId));
}

/**
 * Managers remove anyone (the owner is not a member row); anyone may leave. The removed
 * user's open live-tail connections are re-checked at once and stop receiving this project.
 */
export async function removeMember(ds: DataSource, projectId: number, memberId: number, actor: { id: number; role: ProjectRole }) {
  const row = await memberRow(ds, projectId, memberId);
  if (row.user_id !== actor.id && !can(actor.role, 'manage_members')) throw forbidden('Only admins and the owner manage members');
  await ds.getRepository(ProjectMember).delete({ id: memberId, projectId });
  await announceAccessChange({ users: [row.user_id] });
}

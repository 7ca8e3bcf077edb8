import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import type { MemberRole } from '../../entities/ProjectMember.ts';
import { announceAccessChange } from '../accounts/accessChanges.ts';
import { normalizeEmail } from '../accounts/users.ts';
import { conflict, notFound } from '../errors.ts';
import { memberRow, serializeMember } from './members.ts';

/**
 * Panties' "invite members by email", with the invitee's consent: an invitation names an
 * address and a role, and grants nothing until the person signed in with that address
 * accepts it. Inviting answers the same whether or not the address is registered, so it
 * tells the inviter nothing about who has an account.
 */

export type InvitationStatus = 'pending' | 'accepted' | 'declined' | 'expired';

interface InvitationRow {
  id: number;
  project_id: number;
  project_name: string;
  email: string;
  role: MemberRole;
  invited_by_id: number | null;
  inviter_email: string | null;
  inviter_first_name: string | null;
  inviter_last_name: string | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  declined_at: Date | null;
}

const SELECT = `
  SELECT i.id, i.project_id, p.name AS project_name, i.email, i.role, i.invited_by_id,
         u.email AS inviter_email, u.first_name AS inviter_first_name, u.last_name AS inviter_last_name,
         i.created_at, i.expires_at, i.accepted_at, i.declined_at
    FROM project_invitations i
    JOIN projects p ON p.id = i.project_id
    LEFT JOIN users u ON u.id = i.invited_by_id`;

/** Unanswered and not expired: what an invitee may still accept. */
const OPEN = `i.accepted_at IS NULL AND i.declined_at IS NULL AND i.expires_at > now()`;

function statusOf(r: InvitationRow): InvitationStatus {
  if (r.accepted_at) return 'accepted';
  if (r.declined_at) return 'declined';
  return new Date(r.expires_at).getTime() <= Date.now() ? 'expired' : 'pending';
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function serializeInvitation(r: InvitationRow) {
  return {
    id: r.id,
    project: { id: r.project_id, name: r.project_name },
    email: r.email,
    role: r.role,
    status: statusOf(r),
    invited_by:
      r.invited_by_id === null
        ? null
        : { id: r.invited_by_id, email: r.inviter_email!, first_name: r.inviter_first_name!, last_name: r.inviter_last_name! },
    created_at: iso(r.created_at)!,
    expires_at: iso(r.expires_at)!,
    accepted_at: iso(r.accepted_at),
  };
}

export type InvitationOut = ReturnType<typeof serializeInvitation>;

async function one(ds: DataSource, where: string, params: unknown[]): Promise<InvitationRow | null> {
  const rows: InvitationRow[] = await ds.query(`${SELECT} WHERE ${where}`, params);
  return rows[0] ?? null;
}

/**
 * Invites `email` to the project with `role` (registered or not: the answer is the same).
 * Inviting the same address again, while unanswered, declined or expired, renews that
 * invitation with the new role. The owner or a current member is a 409: the inviter,
 * who manages members, sees them in the members list anyway.
 */
export async function inviteByEmail(
  ds: DataSource,
  projectId: number,
  email: string,
  role: MemberRole,
  invitedBy: number,
): Promise<InvitationOut> {
  const address = normalizeEmail(email);
  const present: unknown[] = await ds.query(
    `SELECT 1 FROM projects p JOIN users u ON u.email = $2
      WHERE p.id = $1 AND (p.owner_id = u.id OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = u.id))`,
    [projectId, address],
  );
  if (present.length) throw conflict('This person is already in the project', 'already_member');
  const [{ id }]: Array<{ id: number }> = await ds.query(
    `INSERT INTO project_invitations (project_id, email, role, invited_by_id, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
     ON CONFLICT (project_id, email) WHERE accepted_at IS NULL
     DO UPDATE SET role = EXCLUDED.role, invited_by_id = EXCLUDED.invited_by_id, created_at = now(),
                   expires_at = EXCLUDED.expires_at, declined_at = NULL
     RETURNING id`,
    [projectId, address, role, invitedBy, config.invitationTtlSeconds],
  );
  return serializeInvitation((await one(ds, 'i.id = $1', [id]))!);
}

/** A project's invitations not (yet) accepted — pending, declined or expired — newest first. */
export async function listProjectInvitations(ds: DataSource, projectId: number): Promise<InvitationOut[]> {
  const rows: InvitationRow[] = await ds.query(
    `${SELECT} WHERE i.project_id = $1 AND i.accepted_at IS NULL ORDER BY i.created_at DESC, i.id DESC`,
    [projectId],
  );
  return rows.map(serializeInvitation);
}

/** Withdraws an invitation that was not accepted (an accepted one is a membership: remove the member). */
export async function revokeInvitation(ds: DataSource, projectId: number, invitationId: number): Promise<void> {
  const [, affected]: [unknown, number] = await ds.query(
    `DELETE FROM project_invitations WHERE id = $1 AND project_id = $2 AND accepted_at IS NULL`,
    [invitationId, projectId],
  );
  if (!affected) throw notFound('Invitation not found', 'invitation_not_found');
}

/** The caller's open invitations, matched by their (current) email. */
export async function invitationsFor(ds: DataSource, user: { email: string }): Promise<InvitationOut[]> {
  const rows: InvitationRow[] = await ds.query(`${SELECT} WHERE i.email = $1 AND ${OPEN} ORDER BY i.created_at DESC, i.id DESC`, [
    normalizeEmail(user.email),
  ]);
  return rows.map(serializeInvitation);
}

// Anyone else's invitation answers exactly like one that does not exist.
const notYours = () => notFound('Invitation not found', 'invitation_not_found');

/**
 * The invitee accepts: they become a member with the invitation's role, in one
 * transaction. Accepting while already in the project (joined meanwhile) keeps the
 * membership they have.
 */
export async function acceptInvitation(ds: DataSource, user: { id: number; email: string }, invitationId: number) {
  const memberId = await ds.transaction(async (em) => {
    const rows: Array<{ project_id: number; role: MemberRole; invited_by_id: number | null; expired: boolean; owner_id: number }> =
      await em.query(
        `SELECT i.project_id, i.role, i.invited_by_id, i.expires_at <= now() AS expired, p.owner_id
         FROM project_invitations i JOIN projects p ON p.id = i.project_id
        WHERE i.id = $1 AND i.email = $2 AND i.accepted_at IS NULL AND i.declined_at IS NULL
        FOR UPDATE OF i`,
        [invitationId, normalizeEmail(user.email)],
      );
    const inv = rows[0];
    if (!inv) throw notYours();
    if (inv.expired) throw conflict('This invitation has expired; ask for a new one', 'invitation_expired');
    if (inv.owner_id === user.id) throw conflict('You own this project', 'already_member');
    await em.query(
      `INSERT INTO project_members (project_id, user_id, role, invited_by_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (project_id, user_id) DO NOTHING`,
      [inv.project_id, user.id, inv.role, inv.invited_by_id],
    );
    await em.query(`UPDATE project_invitations SET accepted_at = now() WHERE id = $1`, [invitationId]);
    const [{ id }]: Array<{ id: number }> = await em.query(`SELECT id FROM project_members WHERE project_id = $1 AND user_id = $2`, [
      inv.project_id,
      user.id,
    ]);
    return { projectId: inv.project_id, id };
  });
  await announceAccessChange({ users: [user.id] });
  const invitation = serializeInvitation((await one(ds, 'i.id = $1', [invitationId]))!);
  return { ...invitation, member: serializeMember(await memberRow(ds, memberId.projectId, memberId.id)) };
}

/** The invitee declines; inviting them again is possible (and renews it). */
export async function declineInvitation(ds: DataSource, user: { email: string }, invitationId: number): Promise<InvitationOut> {
  const [rows]: [Array<{ id: number }>, number] = await ds.query(
    `UPDATE project_invitations i SET declined_at = now() WHERE i.id = $1 AND i.email = $2 AND ${OPEN} RETURNING i.id`,
    [invitationId, normalizeEmail(user.email)],
  );
  if (!rows.length) throw notYours();
  return serializeInvitation((await one(ds, 'i.id = $1', [invitationId]))!);
}

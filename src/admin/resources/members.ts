import {
  ValidationError,
  type ActionContext,
  type ActionRequest,
  type ActionResponse,
  type ParamsType,
  type ResourceWithOptions,
} from 'adminjs';
import type { DataSource } from 'typeorm';
import type { Access } from '../../domain/access/index.ts';
import { inviteByEmail } from '../../domain/projects/invitations.ts';
import { changeMemberRole, removeMember } from '../../domain/projects/members.ts';
import { MEMBER_ROLES, ProjectMember, type MemberRole } from '../../entities/ProjectMember.ts';
import { mayAnywhere } from '../auth.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { actorOf, domainCall, inProject, NAV, readOnly } from './common.ts';

function role(value: unknown): MemberRole {
  if (!MEMBER_ROLES.includes(value as MemberRole)) throw new ValidationError({ role: { message: `one of ${MEMBER_ROLES.join(', ')}` } });
  return value as MemberRole;
}

/**
 * Panties' members, roles admin / member / viewer. "New" invites an email address: the
 * person joins when they accept the invitation (GET /api/invitations/, then accept), never
 * before — the same invitation, and the same answer for any address, as the API's.
 */
class MemberResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
  ) {
    super(ProjectMember, { scope: projectScope('r.projectId'), exact: ['role'] });
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const me = actorOf(context);
    const projectId = Number(params.projectId);
    if (!Number.isSafeInteger(projectId) || projectId <= 0) throw new ValidationError({ projectId: { message: 'pick a project' } });
    const r = role(params.role);
    const invitation = await domainCall(async () => {
      await this.access.authorize(me, projectId, 'manage_members');
      return inviteByEmail(this.ds, projectId, String(params.email ?? ''), r, me.id);
    }, 'email');
    // Not a member row yet: what the form gets back says who was invited (the notice below).
    return { projectId, email: invitation.email, role: invitation.role } as unknown as ParamsType;
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const member = await this.ds.getRepository(ProjectMember).findOneByOrFail({ id: Number(id) });
    await domainCall(() => this.access.authorize(actorOf(context), member.projectId, 'manage_members'));
    await domainCall(() => changeMemberRole(this.ds, member.projectId, member.id, role(params.role)), 'role');
    return (await this.ds.getRepository(ProjectMember).findOneByOrFail({ id: member.id })) as unknown as ParamsType;
  }

  /** Managers remove anyone; anyone may leave a project. */
  override async delete(id: string, context?: ActionContext): Promise<void> {
    const me = actorOf(context);
    const member = await this.ds.getRepository(ProjectMember).findOneByOrFail({ id: Number(id) });
    await domainCall(async () => {
      const myRole = await this.access.authorize(me, member.projectId, 'view');
      await removeMember(this.ds, member.projectId, member.id, { id: me.id, role: myRole });
    });
  }
}

const managesOrSelf = ({ currentAdmin, record }: { currentAdmin?: unknown; record?: { param(k: string): unknown } }) =>
  inProject('manage_members')({ currentAdmin, record: record as never }) ||
  record?.param('userId') === (currentAdmin as AdminUser | undefined)?.id;

export function membersResource(ds: DataSource, access: Access): ResourceWithOptions {
  return {
    resource: new MemberResource(ds, access),
    options: {
      navigation: NAV.projects,
      sort: { sortBy: 'createdAt', direction: 'desc' },
      listProperties: ['id', 'projectId', 'userId', 'role', 'invitedById', 'createdAt'],
      filterProperties: ['projectId', 'userId', 'role', 'createdAt'],
      showProperties: ['id', 'projectId', 'userId', 'role', 'invitedById', 'createdAt'],
      editProperties: ['projectId', 'email', 'role'],
      properties: {
        role: { availableValues: MEMBER_ROLES.map((r) => ({ value: r, label: r })), isRequired: true },
        email: {
          type: 'string',
          isVisible: { list: false, filter: false, show: false, edit: true },
          description: 'The email to invite. They join once they accept the invitation (it expires after INVITATION_TTL_DAYS).',
        },
        createdAt: readOnly,
      },
      actions: {
        new: {
          isAccessible: ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser, 'manage_members'),
          after: async (response: ActionResponse, _request: ActionRequest) => {
            const email = response.record?.params?.email;
            if (response.notice?.type === 'success' && email) {
              response.notice = { type: 'success', message: `Invitation sent to ${String(email)}: they join once they accept it` };
            }
            return response;
          },
        },
        edit: {
          isAccessible: inProject('manage_members'),
          // Only the role changes: project and user stay (editProperties also lists the invite fields for "new").
          before: async (request: { payload?: Record<string, unknown> }) => {
            if (request.payload) request.payload = { role: request.payload.role };
            return request as never;
          },
        },
        delete: { isAccessible: managesOrSelf, guard: 'Remove this member from the project?' },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}

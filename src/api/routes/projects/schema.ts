import { z } from 'zod';
import { MEMBER_ROLES } from '../../../entities/ProjectMember.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';

const id = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);
export const ProjectIdParam = z.object({ id });
export const MemberParams = z.object({ id, memberId: id });
export const InvitationParams = z.object({ id, invitationId: id });

export const CreateProjectBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(10_000).optional(),
    slug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
      .max(80)
      .optional(),
  })
  .strict()
  .meta({ id: 'CreateProjectRequest', example: { name: 'My App', description: 'Production web app' } });

export const UpdateProjectBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(10_000).optional(),
    retention_days: z.number().int().min(1).max(3650).optional(),
    settings: z.object({ allowAnonymousDumps: z.boolean().optional() }).strict().optional(),
    owner: z.number().int().positive().optional().meta({ description: 'Transfer: the user id of an existing member (owner only)' }),
  })
  .strict()
  .meta({ id: 'UpdateProjectRequest' });

export const ProjectListQuery = PageQuery.omit({ cursor: true });

export const ProjectOut = z
  .object({
    id: z.number().int(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    owner: z.number().int(),
    is_personal: z.boolean(),
    retention_days: z.number().int(),
    settings: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
    role: z.enum(['owner', 'admin', 'member', 'viewer', 'staff']),
  })
  .meta({ id: 'Project' });

const CreatedProjectOut = ProjectOut.extend({
  api_key: z.string().meta({ description: "The project's first ingest key. Shown once; only its hash is stored." }),
}).meta({ id: 'CreatedProject' });

export const MemberBody = z
  .object({ email: z.email(), role: z.enum(MEMBER_ROLES) })
  .strict()
  .meta({ id: 'InviteMemberRequest', example: { email: 'teammate@example.com', role: 'member' } });
export const MemberPatch = z
  .object({ role: z.enum(MEMBER_ROLES) })
  .strict()
  .meta({ id: 'ChangeRoleRequest' });

/** What co-members see of each other: who they are, nothing about their account (no staff flag, no last login). */
const UserRef = z
  .object({ id: z.number().int(), email: z.string(), first_name: z.string(), last_name: z.string() })
  .meta({ id: 'UserRef' });

export const MemberOut = z
  .object({
    id: z.number().int().nullable().meta({ description: 'Membership id (null for the owner)' }),
    user: UserRef,
    role: z.enum(['owner', ...MEMBER_ROLES]),
    invited_by: z.number().int().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'Member' });

export const InvitationOut = z
  .object({
    id: z.number().int(),
    project: z.object({ id: z.number().int(), name: z.string() }),
    email: z.string().meta({ description: 'The address invited (lower-cased)' }),
    role: z.enum(MEMBER_ROLES),
    status: z.enum(['pending', 'accepted', 'declined', 'expired']),
    invited_by: UserRef.nullable(),
    created_at: z.string(),
    expires_at: z.string(),
    accepted_at: z.string().nullable(),
  })
  .meta({
    id: 'Invitation',
    example: {
      id: 3,
      project: { id: 2, name: 'Checkout' },
      email: 'teammate@example.com',
      role: 'member',
      status: 'pending',
      invited_by: { id: 1, email: 'you@example.com', first_name: '', last_name: '' },
      created_at: '2025-01-01T12:00:00.000Z',
      expires_at: '2025-01-15T12:00:00.000Z',
      accepted_at: null,
    },
  });

const security = [{ [bearerAuth.name]: [] }];
const P = '/api/projects/{id}/';
const I = '/api/projects/{id}/invitations/';
const M = '/api/projects/{id}/members/';

registry.registerPath({
  method: 'get',
  path: '/api/projects/',
  tags: ['projects'],
  summary: 'Projects you own or belong to (staff: all), with your role',
  security,
  request: { query: ProjectListQuery },
  responses: { 200: jsonResponse(paginated(ProjectOut, 'ProjectList'), 'Projects'), ...errorResponses(401) },
});
registry.registerPath({
  method: 'post',
  path: '/api/projects/',
  tags: ['projects'],
  summary: 'Create a project; answers its first API key once, as api_key',
  security,
  request: { body: jsonBody(CreateProjectBody) },
  responses: { 201: jsonResponse(CreatedProjectOut, 'Created'), ...errorResponses(400, 401) },
});
registry.registerPath({
  method: 'get',
  path: P,
  tags: ['projects'],
  summary: 'One project (viewer and up)',
  security,
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(ProjectOut, 'Project'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'patch',
  path: P,
  tags: ['projects'],
  summary: 'Edit a project (admin and up); `owner` transfers it (owner only)',
  security,
  request: { params: ProjectIdParam, body: jsonBody(UpdateProjectBody) },
  responses: { 200: jsonResponse(ProjectOut, 'Updated'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'delete',
  path: P,
  tags: ['projects'],
  summary: 'Delete a project and all its data (owner only; not a personal project)',
  security,
  request: { params: ProjectIdParam },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404, 409) },
});
registry.registerPath({
  method: 'get',
  path: M,
  tags: ['projects'],
  summary: 'The owner and members (viewer and up)',
  security,
  request: { params: ProjectIdParam },
  responses: {
    200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(MemberOut) }), 'Members'),
    ...errorResponses(401, 404),
  },
});
registry.registerPath({
  method: 'post',
  path: M,
  tags: ['projects'],
  summary: 'Invite someone by email with a role (admin and up); they join once they accept',
  description:
    'Creates (or renews) a pending invitation; nothing is granted until the person signed in with that email accepts it ' +
    '(`POST /api/invitations/{id}/accept/`). The answer is the same whether or not the address is registered. ' +
    'Someone already in the project (owner or member) is a 409.',
  security,
  request: { params: ProjectIdParam, body: jsonBody(MemberBody) },
  responses: { 201: jsonResponse(InvitationOut, 'Invitation pending'), ...errorResponses(400, 401, 403, 404, 409) },
});
registry.registerPath({
  method: 'get',
  path: I,
  tags: ['projects'],
  summary: "The project's invitations not accepted: pending, declined or expired (admin and up)",
  security,
  request: { params: ProjectIdParam },
  responses: {
    200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(InvitationOut) }), 'Invitations'),
    ...errorResponses(401, 403, 404),
  },
});
registry.registerPath({
  method: 'delete',
  path: `${I}{invitationId}/`,
  tags: ['projects'],
  summary: 'Revoke an invitation that was not accepted (admin and up)',
  security,
  request: { params: InvitationParams },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 403, 404) },
});
registry.registerPath({
  method: 'patch',
  path: `${M}{memberId}/`,
  tags: ['projects'],
  summary: "Change a member's role (admin and up)",
  security,
  request: { params: MemberParams, body: jsonBody(MemberPatch) },
  responses: { 200: jsonResponse(MemberOut, 'Updated'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'delete',
  path: `${M}{memberId}/`,
  tags: ['projects'],
  summary: 'Remove a member (admin and up), or leave the project yourself',
  security,
  request: { params: MemberParams },
  responses: { 204: { description: 'Removed' }, ...errorResponses(401, 403, 404) },
});

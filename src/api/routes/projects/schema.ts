import { z } from 'zod';
import { MEMBER_ROLES } from '../../../entities/ProjectMember.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';

const id = z.coerce.number().int().positive().max(2 ** 31 - 1);
export const ProjectIdParam = z.object({ id });
export const MemberParams = z.object({ id, memberId: id });

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
export const MemberPatch = z.object({ role: z.enum(MEMBER_ROLES) }).strict().meta({ id: 'ChangeRoleRequest' });

const MemberOut = z
  .object({
    id: z.number().int().nullable().meta({ description: 'Membership id (null for the owner)' }),
    user: z.object({ id: z.number().int(), email: z.string(), first_name: z.string(), last_name: z.string() }),
    role: z.enum(['owner', ...MEMBER_ROLES]),
    invited_by: z.number().int().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'Member' });

const security = [{ [bearerAuth.name]: [] }];
const P = '/api/projects/{id}/';
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
  responses: { 200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(MemberOut) }), 'Members'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'post',
  path: M,
  tags: ['projects'],
  summary: 'Invite an existing user by email with a role (admin and up)',
  security,
  request: { params: ProjectIdParam, body: jsonBody(MemberBody) },
  responses: { 201: jsonResponse(MemberOut, 'Member added'), ...errorResponses(400, 401, 403, 404, 409) },
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

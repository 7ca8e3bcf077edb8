import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { ProfileOut } from '../profile/schema.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../../domain/accounts/passwords.ts';

export const UserIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
export const UserListQuery = PageQuery.omit({ cursor: true }).extend({
  search: z.string().max(254).optional().meta({ description: 'Substring of the email' }),
});

const fields = {
  email: z.email().max(254),
  password: z
    .string()
    .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
    .max(PASSWORD_MAX_LENGTH)
    .meta({ description: 'Write-only' }),
  first_name: z.string().max(150),
  last_name: z.string().max(150),
  is_active: z.boolean(),
  is_staff: z.boolean(),
};

/** The crash store's admin user API: email, password (write-only), is_active, is_staff. */
export const CreateUserBody = z
  .object({
    ...fields,
    first_name: fields.first_name.optional(),
    last_name: fields.last_name.optional(),
    is_active: fields.is_active.default(true),
    is_staff: fields.is_staff.default(false),
  })
  .strict()
  .meta({ id: 'AdminCreateUser', example: { email: 'new@example.com', password: 'Pass123!x', is_active: true, is_staff: false } });
export const PutUserBody = z
  .object({
    ...fields,
    password: fields.password.optional(),
    first_name: fields.first_name.optional(),
    last_name: fields.last_name.optional(),
  })
  .strict()
  .meta({ id: 'AdminReplaceUser' });
export const PatchUserBody = z.object(fields).partial().strict().meta({ id: 'AdminUpdateUser' });

// The same fields serializeUserDetail gives the profile: one schema for both.
export const AdminUserOut = ProfileOut;

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/users/',
  tags: ['users (staff)'],
  summary: 'All users (staff only)',
  security,
  request: { query: UserListQuery },
  responses: { 200: jsonResponse(paginated(AdminUserOut, 'AdminUserList'), 'Users'), ...errorResponses(401, 403) },
});
registry.registerPath({
  method: 'post',
  path: '/api/users/',
  tags: ['users (staff)'],
  summary: 'Create a user (with a personal project)',
  security,
  request: { body: jsonBody(CreateUserBody) },
  responses: { 201: jsonResponse(AdminUserOut, 'Created'), ...errorResponses(400, 401, 403, 409) },
});
for (const method of ['get', 'put', 'patch', 'delete'] as const) {
  registry.registerPath({
    method,
    path: '/api/users/{id}/',
    tags: ['users (staff)'],
    summary: {
      get: 'One user',
      put: 'Replace a user (password optional)',
      patch: 'Update some fields; is_active=false logs the user out everywhere',
      delete: 'Delete a user and the projects they own',
    }[method],
    security,
    request: {
      params: UserIdParam,
      ...(method === 'put' ? { body: jsonBody(PutUserBody) } : method === 'patch' ? { body: jsonBody(PatchUserBody) } : {}),
    },
    responses: {
      ...(method === 'delete' ? { 204: { description: 'Deleted' } } : { 200: jsonResponse(AdminUserOut, 'User') }),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  });
}

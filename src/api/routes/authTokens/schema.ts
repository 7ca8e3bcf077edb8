import { z } from 'zod';
import { AUTH_TOKEN_SCOPES } from '../../../entities/AuthToken.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';

export const AuthTokenIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
export const CreateAuthTokenBody = z
  .object({
    name: z.string().trim().max(100).default(''),
    projects: z
      .array(
        z
          .number()
          .int()
          .positive()
          .max(2 ** 31 - 1),
      )
      .min(1)
      .max(100)
      .meta({ description: 'Project ids the token may act in (you need the member role or above in each)' }),
    scopes: z.array(z.enum(AUTH_TOKEN_SCOPES)).min(1).default(['project:releases']),
  })
  .strict()
  .meta({ id: 'CreateAuthTokenRequest', example: { name: 'CI source maps', projects: [1] } });
export const AuthTokenOut = z
  .object({
    id: z.number().int(),
    name: z.string(),
    prefix: z.string(),
    projects: z.array(z.number().int()),
    scopes: z.array(z.string()),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    is_active: z.boolean(),
  })
  .meta({ id: 'AuthToken' });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/auth-tokens/',
  tags: ['auth-tokens'],
  summary: 'Your auth tokens (for sentry-cli); secrets are never shown again',
  security,
  responses: { 200: jsonResponse(z.object({ results: z.array(AuthTokenOut) }), 'Tokens'), ...errorResponses(401) },
});
registry.registerPath({
  method: 'post',
  path: '/api/auth-tokens/',
  tags: ['auth-tokens'],
  summary: 'Create an auth token scoped to projects; the secret is in the answer, once, as `token`',
  security,
  request: { body: jsonBody(CreateAuthTokenBody) },
  responses: { 201: jsonResponse(AuthTokenOut.extend({ token: z.string() }), 'Created'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'delete',
  path: '/api/auth-tokens/{id}/',
  tags: ['auth-tokens'],
  summary: 'Revoke an auth token (it stops working at once)',
  security,
  request: { params: AuthTokenIdParam },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(401, 404) },
});

import { z } from 'zod';
import { API_KEY_SCOPES } from '../../../entities/ApiKey.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';
import { DEFAULT_KEY_SCOPES } from '../../../domain/projects/keys.ts';

export const KeyIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});
export const KeyListQuery = z.object({
  project: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .optional(),
});

const scopes = z
  .array(z.enum(API_KEY_SCOPES))
  .min(1)
  .transform((s) => [...new Set(s)]);

export const CreateKeyBody = z
  .object({
    name: z.string().trim().max(100).default(''),
    project: z.number().int().positive().optional().meta({ description: 'Defaults to your personal project' }),
    scopes: scopes.default(DEFAULT_KEY_SCOPES),
  })
  .strict()
  .meta({ id: 'CreateApiKeyRequest', example: { name: 'backend', scopes: ['ingest'] } });

export const UpdateKeyBody = z
  .object({
    name: z.string().trim().max(100).optional(),
    scopes: scopes.optional(),
    is_active: z.boolean().optional().meta({ description: 'false revokes the key (final, like DELETE); true on a revoked key is 409' }),
  })
  .strict()
  .meta({ id: 'UpdateApiKeyRequest', example: { name: 'backend', is_active: true } });

export const KeyOut = z
  .object({
    id: z.number().int(),
    project: z.number().int(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the key, to recognise it' }),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    is_active: z.boolean(),
  })
  .meta({ id: 'ApiKey' });
const CreatedKeyOut = KeyOut.extend({
  key: z.string().meta({ description: 'The secret. Shown this once; only its hash is stored.' }),
}).meta({
  id: 'CreatedApiKey',
});

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/apikeys/',
  tags: ['api keys'],
  summary: 'Keys of the projects where you manage keys (owner, admin)',
  security,
  request: { query: KeyListQuery },
  responses: {
    200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(KeyOut) }), 'Keys'),
    ...errorResponses(401, 403, 404),
  },
});
registry.registerPath({
  method: 'post',
  path: '/api/apikeys/',
  tags: ['api keys'],
  summary: 'Create a key; the secret is answered once, as `key`',
  security,
  request: { body: jsonBody(CreateKeyBody) },
  responses: { 201: jsonResponse(CreatedKeyOut, 'Created'), ...errorResponses(400, 401, 403, 404) },
});
const changeKey = 'Rename a key, change its scopes, or revoke it with {"is_active": false} (PUT and PATCH alike, DataIdea)';
for (const method of ['get', 'put', 'patch', 'delete'] as const) {
  const changes = method === 'put' || method === 'patch';
  registry.registerPath({
    method,
    path: '/api/apikeys/{id}/',
    tags: ['api keys'],
    summary: {
      get: 'One key (never its secret)',
      put: changeKey,
      patch: changeKey,
      delete: 'Revoke a key: it stops working within seconds everywhere',
    }[method],
    security,
    request: { params: KeyIdParam, ...(changes ? { body: jsonBody(UpdateKeyBody) } : {}) },
    responses: {
      ...(method === 'delete' ? { 204: { description: 'Revoked' } } : { 200: jsonResponse(KeyOut, 'Key') }),
      ...errorResponses(...(changes ? [400, 401, 403, 404, 409] : [400, 401, 403, 404])),
    },
  });
}

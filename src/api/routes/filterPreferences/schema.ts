import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';

/** Saved filters are the dashboard's own: any JSON object (typically the /api/logs/ query parameters), up to 16 KB. */
const Filters = z
  .record(z.string(), z.unknown())
  .refine((f) => Buffer.byteLength(JSON.stringify(f)) <= 16_384, 'at most 16 KB of JSON')
  .meta({ example: { severity: 'ERROR,CRITICAL', source: 'api_gateway', date_from: '2024-01-01T00:00:00Z' } });

export const PreferenceBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    filters: Filters,
    is_default: z.boolean().optional(),
  })
  .strict()
  .meta({
    id: 'UserFilterPreferenceRequest',
    example: { name: 'Errors in the gateway', filters: { severity: 'ERROR', source: 'api_gateway' }, is_default: true },
  });
export const PreferencePatchBody = PreferenceBody.partial().strict().meta({ id: 'UserFilterPreferencePatch' });

export const PreferenceIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});

export const PreferenceOut = z
  .object({
    id: z.number().int(),
    user: z.number().int(),
    name: z.string(),
    filters: z.record(z.string(), z.unknown()),
    is_default: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'UserFilterPreference' });

const security = [{ [bearerAuth.name]: [] }];
const base = '/api/user-filter-preferences';
const params = { params: PreferenceIdParam };
registry.registerPath({
  method: 'get',
  path: `${base}/`,
  tags: ['filters'],
  summary: 'Your saved log filters (the logs dashboard); the default first',
  security,
  responses: { 200: jsonResponse(paginated(PreferenceOut, 'UserFilterPreferenceList'), 'Saved filters'), ...errorResponses(401) },
});
registry.registerPath({
  method: 'post',
  path: `${base}/`,
  tags: ['filters'],
  summary: 'Save a filter; is_default: true makes it your only default',
  security,
  request: { body: jsonBody(PreferenceBody) },
  responses: { 201: jsonResponse(PreferenceOut, 'Created'), ...errorResponses(400, 401, 409) },
});
registry.registerPath({
  method: 'get',
  path: `${base}/{id}/`,
  tags: ['filters'],
  summary: 'One saved filter',
  security,
  request: params,
  responses: { 200: jsonResponse(PreferenceOut, 'Saved filter'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'put',
  path: `${base}/{id}/`,
  tags: ['filters'],
  summary: 'Replace a saved filter',
  security,
  request: { ...params, body: jsonBody(PreferenceBody) },
  responses: { 200: jsonResponse(PreferenceOut, 'Updated'), ...errorResponses(400, 401, 404, 409) },
});
registry.registerPath({
  method: 'patch',
  path: `${base}/{id}/`,
  tags: ['filters'],
  summary: 'Change some fields of a saved filter',
  security,
  request: { ...params, body: jsonBody(PreferencePatchBody) },
  responses: { 200: jsonResponse(PreferenceOut, 'Updated'), ...errorResponses(400, 401, 404, 409) },
});
registry.registerPath({
  method: 'delete',
  path: `${base}/{id}/`,
  tags: ['filters'],
  summary: 'Delete a saved filter',
  security,
  request: params,
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 404) },
});

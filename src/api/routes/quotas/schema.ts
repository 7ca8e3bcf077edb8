import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';
import { ProjectIdParam } from '../projects/schema.ts';

const perMinute = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
  .nullable();
export const LimitsBody = z
  .object({
    events_per_minute: perMinute.optional(),
    logs_per_minute: perMinute.optional(),
    llm_logs_per_minute: perMinute.optional(),
    spans_per_minute: perMinute.optional(),
    dump_bytes_per_day: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
    spike_protection: z.boolean().nullable().optional(),
  })
  .strict()
  .meta({
    id: 'QuotaLimits',
    description:
      'Per minute (bytes per day for dumps). null or absent: inherit (a project the instance default, a key no limit of its own); 0: no limit',
  });

export const QuotasBody = z
  .object({
    project: LimitsBody.optional(),
    keys: z.record(z.string().regex(/^\d{1,10}$/, 'an API key id'), LimitsBody).optional(),
  })
  .strict()
  .meta({
    id: 'QuotasRequest',
    description: "Replaces the overrides of each scope sent (the project's, and each key's by id); scopes not sent keep theirs",
    example: { project: { events_per_minute: 600, spike_protection: true }, keys: { '12': { logs_per_minute: 1000 } } },
  });

const Limits = z.object({
  events_per_minute: z.number().nullable(),
  logs_per_minute: z.number().nullable(),
  llm_logs_per_minute: z.number().nullable(),
  spans_per_minute: z.number().nullable(),
  dump_bytes_per_day: z.number().nullable(),
  spike_protection: z.boolean().nullable(),
});
export const QuotasOut = z
  .object({
    defaults: Limits.meta({ description: 'The instance defaults (config: QUOTA_*)' }),
    spike_protection: z.object({ multiplier: z.number(), floor_per_minute: z.number() }),
    project: Limits.meta({ description: "The project's overrides (null: the default)" }),
    effective: Limits.meta({ description: 'What applies to the project (0: no limit)' }),
    keys: z.array(z.object({ id: z.number().int(), name: z.string(), prefix: z.string(), overrides: Limits })),
  })
  .meta({ id: 'Quotas' });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/quotas/',
  tags: ['quotas'],
  summary: "The project's quotas: instance defaults, its overrides and its keys' (any role may read them)",
  security,
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(QuotasOut, 'Quotas'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'put',
  path: '/api/projects/{id}/quotas/',
  tags: ['quotas'],
  summary: 'Set the overrides of the project and/or its keys (admin, owner, staff)',
  security,
  request: { params: ProjectIdParam, body: jsonBody(QuotasBody) },
  responses: { 200: jsonResponse(QuotasOut, 'Quotas'), ...errorResponses(400, 401, 403, 404) },
});

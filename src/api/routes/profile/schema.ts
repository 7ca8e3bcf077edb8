import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../../domain/accounts/passwords.ts';

export const ProfileOut = z
  .object({
    id: z.number().int(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    is_active: z.boolean(),
    is_staff: z.boolean(),
    last_login: z.string().nullable(),
    date_joined: z.string(),
  })
  .meta({ id: 'UserDetail', description: 'A user as their profile and the staff user API show them' });

export const ProfilePatch = z
  .object({
    email: z.email().max(254).optional(),
    first_name: z.string().max(150).optional(),
    last_name: z.string().max(150).optional(),
    password: z.string().min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`).max(PASSWORD_MAX_LENGTH).optional(),
    current_password: z.string().max(256).optional().meta({ description: 'Required to change the password or the email' }),
  })
  .strict()
  .meta({ id: 'ProfileUpdate' });

const Counts = z.object({
  total: z.number().int(),
  by_level: z.record(z.string(), z.number().int()),
  by_day: z.array(z.object({ date: z.string(), count: z.number().int() })),
});
const LlmUsage = z.object({
  calls: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  mean_latency_ms: z.number().nullable(),
  by_model: z.array(
    z.object({
      model: z.string().nullable(),
      calls: z.number().int(),
      total_tokens: z.number().int(),
      mean_latency_ms: z.number().nullable(),
    }),
  ),
});
const StatsOut = z
  .object({
    total_event_logs: z.number().int().meta({ description: 'DataIdea: all-time count of logs in your projects' }),
    total_llm_logs: z.number().int().meta({ description: 'DataIdea: all-time count of LLM logs in your projects' }),
    logs_by_level: z.record(z.string(), z.number().int()).meta({ description: 'DataIdea: all-time logs by level' }),
    api_keys_count: z.number().int().meta({ description: 'DataIdea: active API keys you manage' }),
    period_days: z.number().int(),
    projects: z.number().int(),
    events: Counts,
    logs: Counts.extend({
      by_severity: z.record(z.string(), z.number().int()),
      by_source: z.array(z.object({ source: z.string().nullable(), count: z.number().int() })),
    }),
    llm: LlmUsage,
  })
  .loose()
  .meta({ id: 'UserStats', description: "DataIdea's all-time totals, then what landed in your projects over the last 30 days." });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/user/profile/',
  tags: ['profile'],
  summary: 'Your profile',
  security,
  responses: { 200: jsonResponse(ProfileOut, 'Profile'), ...errorResponses(401, 403) },
});
for (const method of ['put', 'patch'] as const) {
  registry.registerPath({
    method,
    path: '/api/user/profile/',
    tags: ['profile'],
    summary: 'Update your profile (PUT and PATCH alike: the fields sent change)',
    description:
      'A new `password` or `email` needs `current_password` (400 `invalid_current_password` otherwise, nothing changed; ' +
      'wrong guesses are rate-limited like logins, 429) and ends every session at once, this one included: ' +
      'tokens issued before answer 401 `token_revoked`; log in again.',
    security,
    request: { body: jsonBody(ProfilePatch) },
    responses: { 200: jsonResponse(ProfileOut, 'Updated'), ...errorResponses(400, 401, 409, 429) },
  });
}
registry.registerPath({
  method: 'get',
  path: '/api/user/stats/',
  tags: ['profile'],
  summary: 'Counts by level and by day over the last 30 days, across your projects',
  security,
  responses: { 200: jsonResponse(StatsOut, 'Stats'), ...errorResponses(401) },
});

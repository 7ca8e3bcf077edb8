import { z } from 'zod';
import { RULE_ACTIONS, RULE_KINDS } from '../../../domain/scrubbing/rules.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';
import { ProjectIdParam } from '../projects/schema.ts';

export const RuleParam = ProjectIdParam.extend({
  rule_id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});

export const RuleIn = z
  .object({
    kind: z.enum(RULE_KINDS).meta({
      description:
        'email, ip, phone (pattern: an optional default country, e.g. US), regex (pattern: RE2 syntax), key (pattern: a key name or a path glob like extra.customer.*), exempt (pattern: a key or path glob left unscrubbed)',
    }),
    pattern: z.string().max(500).nullable().optional(),
    action: z
      .enum(RULE_ACTIONS)
      .nullable()
      .optional()
      .meta({ description: 'mask (****, or [Filtered] for whole values), hash (keyed HMAC, stable), remove; null for exempt' }),
    description: z.string().max(500).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'ScrubbingRuleIn', example: { kind: 'email', action: 'hash', description: 'customer emails' } });
export const RulePatch = RuleIn.partial().meta({ id: 'ScrubbingRulePatch' });

export const RuleOut = z
  .object({
    id: z.number().int(),
    project: z.number().int(),
    kind: z.enum(RULE_KINDS),
    pattern: z.string().nullable(),
    action: z.enum(RULE_ACTIONS).nullable(),
    description: z.string(),
    enabled: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'ScrubbingRule' });
const RuleList = z
  .object({ count: z.number().int(), next: z.null(), previous: z.null(), results: z.array(RuleOut) })
  .meta({ id: 'ScrubbingRuleList' });

export const TestIn = z
  .object({
    payload: z
      .unknown()
      .refine((v) => v !== undefined, 'required')
      .meta({ description: 'Any JSON: an event, a log, an LLM call, span attributes' }),
    rules: z.array(RuleIn).max(100).optional().meta({ description: 'Draft rules tried on top of the saved ones (not saved)' }),
  })
  .strict()
  .meta({
    id: 'ScrubbingTestIn',
    example: {
      payload: { message: 'login with password=hunter2', user: { email: 'ann@example.com' } },
      rules: [{ kind: 'email', action: 'hash' }],
    },
  });
const Mark = z.object({ path: z.string(), rule: z.string() }).meta({ id: 'ScrubbedMark' });
const TestOut = z.object({ payload: z.unknown(), scrubbed: z.array(Mark) }).meta({ id: 'ScrubbingTestOut' });

const user = [{ [bearerAuth.name]: [] }];
const base = '/api/projects/{id}/scrubbing-rules/';
registry.registerPath({
  method: 'get',
  path: base,
  tags: ['scrubbing'],
  summary: "A project's own scrubbing rules (the defaults always apply and need none)",
  security: user,
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(RuleList, 'Rules'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'post',
  path: base,
  tags: ['scrubbing'],
  summary: 'Add a scrubbing rule (project admin or owner); applies to items stored afterwards (within seconds)',
  security: user,
  request: { params: ProjectIdParam, body: jsonBody(RuleIn) },
  responses: { 201: jsonResponse(RuleOut, 'Created'), ...errorResponses(400, 401, 403, 404, 409) },
});
registry.registerPath({
  method: 'post',
  path: `${base}test/`,
  tags: ['scrubbing'],
  summary: 'Try it: a sample payload as it would be stored, with what was scrubbed (nothing is saved)',
  security: user,
  request: { params: ProjectIdParam, body: jsonBody(TestIn) },
  responses: { 200: jsonResponse(TestOut, 'The payload as stored, and the marks'), ...errorResponses(400, 401, 404) },
});
for (const method of ['get', 'patch', 'delete'] as const) {
  registry.registerPath({
    method,
    path: `${base}{rule_id}/`,
    tags: ['scrubbing'],
    summary: method === 'get' ? 'One scrubbing rule' : method === 'patch' ? 'Change a scrubbing rule' : 'Remove a scrubbing rule',
    security: user,
    request: { params: RuleParam, ...(method === 'patch' ? { body: jsonBody(RulePatch) } : {}) },
    responses: {
      ...(method === 'delete'
        ? { 204: { description: 'Removed' } }
        : { 200: jsonResponse(RuleOut, method === 'get' ? 'Rule' : 'Changed') }),
      ...errorResponses(400, 401, ...(method === 'get' ? [] : [403 as const]), 404),
    },
  });
}

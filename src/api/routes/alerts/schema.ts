import { z } from 'zod';
import { ChannelBodySchema, ChannelPatchSchema } from '../../../domain/alerts/channels.ts';
import { FiltersSchema, RuleBodySchema, RulePatchSchema, TRIGGER_PARAMS, TRIGGERS } from '../../../domain/alerts/definitions.ts';
import { CHANNEL_TYPES } from '../../../entities/AlertChannel.ts';
import { FIRING_STATUSES } from '../../../entities/AlertFiring.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';

const id = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);
export const ProjectParam = z.object({ id });
export const RuleParams = z.object({ id, ruleId: id });
export const ChannelParams = z.object({ id, channelId: id });
export const FiringParams = z.object({ id, firingId: z.string().regex(/^\d{1,18}$/, 'a firing id') });

/** Bodies are the domain's schemas (the admin validates with the same), documented here. */
export const RuleBody = RuleBodySchema.meta({
  id: 'AlertRuleRequest',
  description:
    'params by trigger: issue.new, issue.regressed — none; issue.frequency — threshold, window_minutes; events.threshold — kind (error|log|any), threshold, window_minutes; ' +
    'llm.threshold — metric (error_rate|p95_latency_ms|tokens|cost), threshold, window_minutes, model?, per_model?, min_calls?; dump.received — new_crash_only?; ' +
    'monitor.missed, monitor.failed — monitors? (slugs). Unknown fields are refused.',
  example: {
    name: 'New issues in production',
    trigger: 'issue.new',
    filters: { environments: ['production'] },
    channels: [1],
    cooldown_minutes: 30,
  },
});
export const RulePatch = RulePatchSchema.meta({ id: 'AlertRulePatch' });
export const ChannelBody = ChannelBodySchema.meta({
  id: 'AlertChannelRequest',
  example: { name: 'ops Slack', type: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXX' },
});
export const ChannelPatch = ChannelPatchSchema.meta({ id: 'AlertChannelPatch' });

// For the document: the same body with params as the per-trigger schemas it is checked against, and the filters.
const paramsDoc = z.union(
  TRIGGERS.map((t) => (TRIGGER_PARAMS[t] as z.ZodType).meta({ id: `AlertParams_${t.replace('.', '_')}`, description: `params of ${t}` })),
);
const RuleBodyDoc = RuleBodySchema.extend({
  params: paramsDoc.optional(),
  filters: FiltersSchema.meta({ id: 'AlertFilters' }).optional(),
}).meta({ id: 'AlertRuleRequestDoc' });
const RulePatchDoc = RulePatchSchema.extend({ params: paramsDoc.optional(), filters: FiltersSchema.optional() }).meta({
  id: 'AlertRulePatchDoc',
});

export const FiringQuery = PageQuery.omit({ cursor: true }).extend({
  rule: id.optional(),
  status: z.enum(FIRING_STATUSES).optional(),
  kind: z.enum(['firing', 'recovered', 'test']).optional(),
});
export const PlainPageQuery = PageQuery.omit({ cursor: true });

export const RuleOut = z
  .object({
    id: z.number().int(),
    project: z.number().int(),
    name: z.string(),
    trigger: z.enum(TRIGGERS),
    params: z.record(z.string(), z.unknown()),
    filters: z.record(z.string(), z.unknown()),
    channels: z.array(z.number().int()),
    cooldown_minutes: z.number().int(),
    digest_minutes: z.number().int(),
    snoozed_until: z.string().nullable(),
    enabled: z.boolean(),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'AlertRule' });

export const ChannelOut = z
  .object({
    id: z.number().int(),
    project: z.number().int(),
    name: z.string(),
    type: z.enum(CHANNEL_TYPES),
    target: z.string().meta({ description: 'The URL masked (never shown in full again), or the email recipients' }),
    addresses: z.array(z.string()),
    roles: z.array(z.string()),
    enabled: z.boolean(),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'AlertChannel' });
const CreatedChannelOut = ChannelOut.extend({
  secret: z.string().nullable().meta({ description: 'webhook: the signing secret, shown this once (HMAC-SHA256 of "<timestamp>.<body>")' }),
}).meta({ id: 'CreatedAlertChannel' });

export const DeliveryOut = z
  .object({
    id: z.string(),
    notification: z.string(),
    channel: z.number().int(),
    attempt: z.number().int(),
    started_at: z.string(),
    latency_ms: z.number().int().nullable(),
    status_code: z.number().int().nullable(),
    outcome: z.enum(['sent', 'retry', 'failed']),
    error: z.string().nullable(),
  })
  .meta({ id: 'AlertDelivery' });

export const FiringOut = z
  .object({
    id: z.string(),
    project: z.number().int(),
    rule: z.number().int().nullable(),
    trigger: z.string(),
    trigger_key: z.string(),
    subject: z.string(),
    kind: z.enum(['firing', 'recovered', 'test']),
    status: z.enum(FIRING_STATUSES).meta({ description: 'notified, digested (in a digest), suppressed (cooldown), snoozed, no_channels' }),
    window_start: z.string().nullable(),
    window_end: z.string().nullable(),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    title: z.string(),
    text: z.string(),
    url: z.string(),
    created_at: z.string(),
    notifications: z.array(
      z.object({
        id: z.string(),
        channel: z.number().int(),
        digest: z.boolean(),
        status: z.enum(['pending', 'sent', 'failed']),
        attempts: z.number().int(),
        idempotency_key: z.string(),
        last_error: z.string().nullable(),
        created_at: z.string(),
        sent_at: z.string().nullable(),
        deliveries: z.array(DeliveryOut),
      }),
    ),
  })
  .meta({ id: 'AlertFiring' });

const security = [{ [bearerAuth.name]: [] }];
const tags = ['alerts'];
const base = '/api/projects/{id}';

registry.registerPath({
  method: 'get',
  path: `${base}/alert-rules/`,
  tags,
  security,
  summary: 'The project’s alert rules (any role)',
  request: { params: ProjectParam },
  responses: {
    200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(RuleOut) }), 'Rules'),
    ...errorResponses(401, 404),
  },
});
registry.registerPath({
  method: 'post',
  path: `${base}/alert-rules/`,
  tags,
  security,
  summary: 'Create a rule (admin, owner)',
  request: { params: ProjectParam, body: jsonBody(RuleBodyDoc, RuleBody.description) },
  responses: { 201: jsonResponse(RuleOut, 'Created'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: `${base}/alert-rules/{ruleId}/`,
  tags,
  security,
  summary: 'One rule',
  request: { params: RuleParams },
  responses: { 200: jsonResponse(RuleOut, 'Rule'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'patch',
  path: `${base}/alert-rules/{ruleId}/`,
  tags,
  security,
  summary: 'Change a rule: any field; snooze with snoozed_until (null wakes it)',
  request: { params: RuleParams, body: jsonBody(RulePatchDoc) },
  responses: { 200: jsonResponse(RuleOut, 'Rule'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'delete',
  path: `${base}/alert-rules/{ruleId}/`,
  tags,
  security,
  summary: 'Delete a rule (its firings go with it)',
  request: { params: RuleParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
});

registry.registerPath({
  method: 'get',
  path: `${base}/alert-channels/`,
  tags,
  security,
  summary: 'The project’s channels; URLs masked, secrets never shown',
  request: { params: ProjectParam },
  responses: {
    200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(ChannelOut) }), 'Channels'),
    ...errorResponses(401, 404),
  },
});
registry.registerPath({
  method: 'post',
  path: `${base}/alert-channels/`,
  tags,
  security,
  summary: 'Create a channel (admin, owner); a webhook’s signing secret is answered once',
  request: { params: ProjectParam, body: jsonBody(ChannelBody) },
  responses: { 201: jsonResponse(CreatedChannelOut, 'Created'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: `${base}/alert-channels/{channelId}/`,
  tags,
  security,
  summary: 'One channel',
  request: { params: ChannelParams },
  responses: { 200: jsonResponse(ChannelOut, 'Channel'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'patch',
  path: `${base}/alert-channels/{channelId}/`,
  tags,
  security,
  summary: 'Change a channel; rotate_secret answers a new secret once',
  request: { params: ChannelParams, body: jsonBody(ChannelPatch) },
  responses: { 200: jsonResponse(CreatedChannelOut, 'Channel'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'delete',
  path: `${base}/alert-channels/{channelId}/`,
  tags,
  security,
  summary: 'Delete a channel (rules stop naming it)',
  request: { params: ChannelParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
});
registry.registerPath({
  method: 'post',
  path: `${base}/alert-channels/{channelId}/test/`,
  tags,
  security,
  summary: 'Send a test notification through the queue; answers its firing',
  request: { params: ChannelParams },
  responses: { 202: jsonResponse(FiringOut, 'Queued'), ...errorResponses(401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: `${base}/alert-channels/{channelId}/deliveries/`,
  tags,
  security,
  summary: 'The channel’s delivery log: every attempt, newest first',
  request: { params: ChannelParams, query: PlainPageQuery },
  responses: { 200: jsonResponse(paginated(DeliveryOut, 'AlertDeliveryList'), 'Attempts'), ...errorResponses(400, 401, 404) },
});

registry.registerPath({
  method: 'get',
  path: `${base}/alert-firings/`,
  tags,
  security,
  summary: 'Firings, newest first, with their notifications and delivery attempts',
  request: { params: ProjectParam, query: FiringQuery },
  responses: { 200: jsonResponse(paginated(FiringOut, 'AlertFiringList'), 'Firings'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: `${base}/alert-firings/{firingId}/`,
  tags,
  security,
  summary: 'One firing',
  request: { params: FiringParams },
  responses: { 200: jsonResponse(FiringOut, 'Firing'), ...errorResponses(401, 404) },
});

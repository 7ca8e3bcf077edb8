import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';
import { IssueIdParam, IssueOut } from '../issues/schema.ts';

export const IssueEventParam = IssueIdParam.extend({
  event_id: z.string().min(1).max(100).meta({ description: 'An event id of the issue, or `latest` / `oldest`' }),
});
export const StatsQuery = z.object({ period: z.enum(['24h', '30d']).default('24h') });
export const CommentBody = z
  .object({ text: z.string().trim().min(1).max(10_000) })
  .strict()
  .meta({ id: 'IssueComment', example: { text: 'Fixed by #421, shipping in 2.1.0' } });

const UserRef = z.object({ id: z.number().int(), email: z.string().nullable(), name: z.string().nullable() });
export const ActivityOut = z
  .object({
    id: z.number().int(),
    kind: z
      .string()
      .meta({ description: 'resolved, unresolved, ignored, assigned, unassigned, note — or, with no user, regressed, unignored' }),
    data: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    user: UserRef.nullable(),
  })
  .meta({ id: 'IssueActivity' });
export const FacetsOut = z
  .object({
    sampled: z.number().int().meta({ description: 'How many of the latest events were counted (at most 3,000)' }),
    facets: z.array(
      z.object({
        key: z.string(),
        total: z.number().int(),
        top: z.array(z.object({ value: z.string(), count: z.number().int(), share: z.number() })),
      }),
    ),
  })
  .meta({ id: 'IssueFacets' });
export const StatsOut = z
  .object({ period: z.enum(['24h', '30d']), buckets: z.array(z.object({ t: z.string(), count: z.number().int() })) })
  .meta({ id: 'IssueStats' });
export const EventDetailOut = z
  .object({
    id: z.number().int(),
    event_id: z.string(),
    project: z.number().int(),
    message: z.string(),
    exception_type: z.string().nullable(),
    level: z.string(),
    release: z.string().nullable(),
    timestamp: z.string(),
    data: z
      .record(z.string(), z.unknown())
      .meta({ description: 'exceptions (with mechanism and frames), breadcrumbs, request, user, contexts, sdk, …' }),
    previous_event_id: z.string().nullable().optional(),
    next_event_id: z.string().nullable().optional(),
    attachments: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .passthrough()
  .meta({ id: 'EventDetail' });
export const IssuePageOut = z
  .object({
    issue: IssueOut,
    assignee: UserRef.nullable(),
    members: z.array(UserRef.extend({ role: z.string() })),
    permissions: z.object({ triage: z.boolean() }),
    facets: FacetsOut,
    frequency: z.object({ '24h': StatsOut.shape.buckets, '30d': StatsOut.shape.buckets }),
    latest_event: EventDetailOut.nullable(),
    activity: z.array(ActivityOut),
  })
  .meta({ id: 'IssuePage' });

const security = [{ [bearerAuth.name]: [] }];
const tags = ['issues'];
registry.registerPath({
  method: 'get',
  path: '/api/issues/{id}/summary/',
  tags,
  summary: 'Everything the issue page shows: the issue, assignee, members, facets, frequency (24 h, 30 d), latest event, activity',
  security,
  request: { params: IssueIdParam },
  responses: { 200: jsonResponse(IssuePageOut, 'Issue page'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/issues/{id}/events/{event_id}/',
  tags,
  summary:
    'One event of the issue in full (structured data, source-mapped frames, attachments), with the ids of its older and newer neighbours',
  security,
  request: { params: IssueEventParam },
  responses: { 200: jsonResponse(EventDetailOut, 'Event'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/issues/{id}/tags/',
  tags,
  summary: 'Tag facets over the latest events: top values and their shares (environment, release, browser, os, server, custom tags)',
  security,
  request: { params: IssueIdParam },
  responses: { 200: jsonResponse(FacetsOut, 'Facets'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/issues/{id}/stats/',
  tags,
  summary: 'Events per hour (24h) or per day (30d)',
  security,
  request: { params: IssueIdParam, query: StatsQuery },
  responses: { 200: jsonResponse(StatsOut, 'Frequency'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/issues/{id}/activity/',
  tags,
  summary: 'The activity log, newest first: who did what, when, with comments',
  security,
  request: { params: IssueIdParam },
  responses: { 200: jsonResponse(z.object({ results: z.array(ActivityOut) }), 'Activity'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'post',
  path: '/api/issues/{id}/comments/',
  tags,
  summary: 'Comment on an issue (member and up)',
  security,
  request: { params: IssueIdParam, body: jsonBody(CommentBody) },
  responses: { 201: jsonResponse(ActivityOut, 'The comment, as an activity entry'), ...errorResponses(400, 401, 403, 404) },
});

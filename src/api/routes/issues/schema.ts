import { z } from 'zod';
import { ISSUE_STATUSES, ISSUE_SUBSTATUSES, RESOLUTIONS } from '../../../entities/Issue.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { EventListQuery, EventOut, LIST_BOUNDS } from '../events/schema.ts';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const IssueIdParam = z.object({ id });
export const IssueListQuery = PageQuery.omit({ cursor: true }).extend({
  project: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .optional(),
  status: z.enum(ISSUE_STATUSES).optional(),
  search: z.string().trim().max(500).optional().meta({ description: 'Substring of the title or culprit' }),
});
export const IssueEventsQuery = EventListQuery;
/** The issue workflow (src/domain/issues/workflow.ts): any combination of a status change, an assignment and a comment. */
export const IssuePatch = z
  .object({
    status: z.enum(ISSUE_STATUSES).optional(),
    resolution: z
      .enum(RESOLUTIONS)
      .optional()
      .meta({ description: 'With status resolved: now (default), in_release (needs release), in_next_release' }),
    release: z.string().trim().min(1).max(250).optional().meta({ description: 'With resolution in_release: the version that fixes it' }),
    ignore_count: z
      .number()
      .int()
      .positive()
      .max(1e12)
      .optional()
      .meta({ description: 'With status ignored: come back after this many more events' }),
    ignore_until: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'With status ignored: come back once an event arrives after this' }),
    assignee: z
      .number()
      .int()
      .positive()
      .max(2 ** 31 - 1)
      .nullable()
      .optional()
      .meta({ description: 'A user id (owner or member of the project), or null to unassign' }),
    comment: z.string().trim().min(1).max(10_000).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (Object.keys(v).length === 0)
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'send at least one of status, assignee, comment' });
    if (v.resolution && v.status !== 'resolved')
      ctx.addIssue({ code: 'custom', path: ['resolution'], message: 'only with status "resolved"' });
    if (v.resolution === 'in_release' && !v.release)
      ctx.addIssue({ code: 'custom', path: ['release'], message: 'required with resolution "in_release"' });
    if (v.release && v.resolution !== 'in_release')
      ctx.addIssue({ code: 'custom', path: ['release'], message: 'only with resolution "in_release"' });
    for (const k of ['ignore_count', 'ignore_until'] as const) {
      if (v[k] !== undefined && v.status !== 'ignored') ctx.addIssue({ code: 'custom', path: [k], message: 'only with status "ignored"' });
    }
    if (v.ignore_count !== undefined && v.ignore_until !== undefined)
      ctx.addIssue({ code: 'custom', path: ['ignore_until'], message: 'one of ignore_count or ignore_until' });
  })
  .meta({ id: 'UpdateIssueRequest', example: { status: 'resolved', resolution: 'in_release', release: 'shop@2.1.0' } });

export const IssueOut = z
  .object({
    id: z.number().int(),
    project: z.number().int(),
    title: z.string(),
    culprit: z.string().nullable(),
    level: z.string(),
    status: z.enum(ISSUE_STATUSES),
    times_seen: z.number().int(),
    first_seen: z.string(),
    last_seen: z.string(),
    resolved_at: z.string().nullable(),
    fingerprint: z.string(),
    substatus: z.enum(ISSUE_SUBSTATUSES).nullable().meta({ description: 'regressed: a resolution did not hold' }),
    users_seen: z.number().int().meta({ description: 'Distinct users affected (user id, email, username or IP)' }),
    first_release: z.string().nullable(),
    last_release: z.string().nullable(),
    assignee: z.number().int().nullable(),
    resolution: z.enum(RESOLUTIONS).nullable(),
    resolved_in_release: z
      .string()
      .nullable()
      .meta({ description: 'in_release: the fixing release; in_next_release: the newest release when resolved' }),
    ignore_until: z.string().nullable(),
    ignore_until_times: z.number().int().nullable().meta({ description: 'Ignored until times_seen reaches this' }),
    grouping_version: z.number().int(),
  })
  .meta({ id: 'Issue' });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/issues/',
  tags: ['issues'],
  summary: 'Issues (groups of error events) in your projects, most recently seen first',
  security,
  request: { query: IssueListQuery },
  responses: { 200: jsonResponse(paginated(IssueOut, 'IssueList'), 'Issues'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/issues/{id}/',
  tags: ['issues'],
  summary: 'One issue',
  security,
  request: { params: IssueIdParam },
  responses: { 200: jsonResponse(IssueOut, 'Issue'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'patch',
  path: '/api/issues/{id}/',
  tags: ['issues'],
  summary:
    'Triage an issue (member and up): resolve (now, in a release, in the next release), ignore (forever, for N events, until a date), reopen, assign, comment',
  security,
  request: { params: IssueIdParam, body: jsonBody(IssuePatch) },
  responses: { 200: jsonResponse(IssueOut, 'Updated'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/issues/{id}/events/',
  tags: ['issues'],
  summary: "The issue's events, newest first",
  description: `${LIST_BOUNDS} An event's whole fields: GET /api/projects/{id}/events/{event_pk}/.`,
  security,
  request: { params: IssueIdParam, query: IssueEventsQuery },
  responses: { 200: jsonResponse(paginated(EventOut, 'IssueEventList'), 'Events'), ...errorResponses(400, 401, 404) },
});

import { z } from 'zod';
import { ISSUE_STATUSES } from '../../../entities/Issue.ts';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { EventListQuery, EventOut, LIST_BOUNDS } from '../events/schema.ts';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const IssueIdParam = z.object({ id });
export const IssueListQuery = PageQuery.omit({ cursor: true }).extend({
  project: z.coerce.number().int().positive().max(2 ** 31 - 1).optional(),
  status: z.enum(ISSUE_STATUSES).optional(),
  search: z.string().trim().max(500).optional().meta({ description: 'Substring of the title or culprit' }),
});
export const IssueEventsQuery = EventListQuery;
export const IssuePatch = z.object({ status: z.enum(ISSUE_STATUSES) }).strict().meta({ id: 'UpdateIssueRequest', example: { status: 'resolved' } });

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
  summary: 'Resolve, ignore or reopen an issue (member and up)',
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

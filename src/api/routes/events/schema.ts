import { z } from 'zod';
import { PantiesEventSchema } from '../../../domain/events/panties.ts';
import { apiKeyAuth, bearerAuth, errorResponses, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { ProjectIdParam } from '../projects/schema.ts';

export const EventListQuery = PageQuery.extend({
  search: z.string().max(500).optional().meta({ description: 'Substring of the message or exception type' }),
  level: z.string().max(200).optional().meta({ description: 'One level or a comma list (debug, info, warning, error, critical; aliases such as warn and fatal accepted)' }),
  environment: z.string().max(100).optional(),
});

export const EventOut = z
  .object({
    id: z.number().int(),
    event_id: z.string(),
    event_type: z.string().nullable(),
    exception_type: z.string().nullable(),
    message: z.string(),
    stacktrace: z.string().nullable(),
    level: z.enum(['debug', 'info', 'warning', 'error', 'critical']),
    environment: z.string().nullable(),
    service_name: z.string().nullable(),
    timestamp: z.string(),
    received_at: z.string(),
    tags: z.record(z.string(), z.unknown()),
    extra: z.record(z.string(), z.unknown()),
    issue: z.number().int().nullable().meta({ description: 'The issue this event is grouped into' }),
  })
  .meta({ id: 'Event' });

const Accepted = z.object({ event_id: z.string() }).meta({ id: 'EventAccepted' });

registry.registerPath({
  method: 'post',
  path: '/api/events/',
  tags: ['ingest'],
  summary: 'Ingest one error event, or an array of them (seed 1, Panties clients)',
  description:
    'Answers 202 only once the events are durably queued. Bodies may be gzip or deflate encoded ' +
    '(Content-Encoding). Limits: 1 MB per event, 10 MB per request, 1000 events per batch (configurable). ' +
    'A batch is validated whole: one invalid item refuses the request and nothing is queued.',
  security: [{ [apiKeyAuth.name]: [] }],
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.union([PantiesEventSchema, z.array(PantiesEventSchema)]) } },
    },
  },
  responses: {
    202: jsonResponse(z.union([Accepted, z.array(Accepted)]), 'Queued; `event_id` is the client\'s or one assigned by the server'),
    ...errorResponses(400, 401, 403, 413, 415, 503),
  },
});

registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/events/',
  tags: ['events'],
  summary: 'Error events of a project, newest first',
  security: [{ [bearerAuth.name]: [] }],
  request: { params: ProjectIdParam, query: EventListQuery },
  responses: { 200: jsonResponse(paginated(EventOut, 'EventList'), 'Events'), ...errorResponses(400, 401, 404) },
});

export const ProjectEventParam = ProjectIdParam.extend({ event_id: z.string().min(1).max(100) });
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/events/{event_id}/',
  tags: ['events'],
  summary: 'One event in full: structured data (exception chain with mechanism and frames, breadcrumbs, request, user, contexts), release',
  security: [{ [bearerAuth.name]: [] }],
  request: { params: ProjectEventParam },
  responses: { 200: jsonResponse(EventOut.extend({ release: z.string().nullable(), data: z.record(z.string(), z.unknown()) }).meta({ id: 'EventFull' }), 'Event'), ...errorResponses(401, 404) },
});

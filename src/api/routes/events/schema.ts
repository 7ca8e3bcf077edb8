import { ScrubbedOut } from '../../../domain/scrubbing/rules.ts';
import { z } from 'zod';
import { PantiesEventSchema } from '../../../domain/ingest/formats/panties.ts';
import { apiKeyAuth, bearerAuth, errorResponses, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { ProjectIdParam } from '../projects/schema.ts';

export const EventListQuery = PageQuery.extend({
  search: z.string().max(500).optional().meta({ description: 'Substring of the message or exception type' }),
  level: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'One level or a comma list (debug, info, warning, error, critical; aliases such as warn and fatal accepted)' }),
  environment: z.string().max(100).optional(),
});

/** A list item's marker that a field was cut (text) or left out (JSON); absent when whole. */
export const truncatedFlag = (field: string, how: 'cut' | 'left out') =>
  z
    .literal(true)
    .optional()
    .meta({
      description: `Lists only: present when ${field} was ${how === 'cut' ? 'cut to LIST_TEXT_MAX_CHARS characters' : 'left out (answered {}) for being over LIST_JSON_MAX_BYTES'}; the detail route has it whole`,
    });

export const EventOut = z
  .object({
    id: z.number().int(),
    event_id: z.string(),
    event_type: z.string().nullable(),
    exception_type: z.string().nullable(),
    message: z.string(),
    message_truncated: truncatedFlag('message', 'cut'),
    stacktrace: z.string().nullable(),
    stacktrace_truncated: truncatedFlag('stacktrace', 'cut'),
    level: z.enum(['debug', 'info', 'warning', 'error', 'critical']),
    environment: z.string().nullable(),
    service_name: z.string().nullable(),
    timestamp: z.string(),
    received_at: z.string(),
    tags: z.record(z.string(), z.unknown()),
    tags_truncated: truncatedFlag('tags', 'left out'),
    extra: z.record(z.string(), z.unknown()),
    extra_truncated: truncatedFlag('extra', 'left out'),
    issue: z.number().int().nullable().meta({ description: 'The issue this event is grouped into' }),
    trace_id: z.string().nullable().meta({ description: 'The trace it happened in (GET /api/traces/{trace_id}/)' }),
    span_id: z.string().nullable(),
    scrubbed: ScrubbedOut,
  })
  .meta({ id: 'Event' });

/** How every list of big rows is bounded (shared by the lists' OpenAPI descriptions). */
export const LIST_BOUNDS =
  'Big fields are cut in lists (text to LIST_TEXT_MAX_CHARS characters; JSON over LIST_JSON_MAX_BYTES answered {}), ' +
  'each marked `<field>_truncated: true`; the detail route has them whole. A page also stops early once its items pass ' +
  'LIST_PAGE_MAX_BYTES: its `next` is then a cursor link that continues after the last item shown, so following `next` ' +
  'visits every row exactly once.';

const Accepted = z.object({ event_id: z.string() }).meta({ id: 'EventAccepted' });

registry.registerPath({
  method: 'post',
  path: '/api/events/',
  tags: ['ingest'],
  summary: 'Ingest one error event, or an array of them (Panties clients)',
  description:
    'Answers 202 only once the events are durably queued; 503 with Retry-After while load is shed (details.reason). ' +
    'Bodies may be gzip, deflate (zlib or raw), br or zstd encoded (Content-Encoding). ' +
    'Limits: 1 MB per event, 10 MB per request after decoding, 1000 events per batch (configurable). ' +
    'A batch is validated whole: one invalid item refuses the request and nothing is queued.',
  security: [{ [apiKeyAuth.name]: [] }],
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.union([PantiesEventSchema, z.array(PantiesEventSchema)]) } },
    },
  },
  responses: {
    202: jsonResponse(z.union([Accepted, z.array(Accepted)]), "Queued; `event_id` is the client's or one assigned by the server"),
    ...errorResponses(400, 401, 403, 413, 415, 429, 503),
  },
});

registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/events/',
  tags: ['events'],
  summary: 'Error events of a project, newest first',
  description: LIST_BOUNDS,
  security: [{ [bearerAuth.name]: [] }],
  request: { params: ProjectIdParam, query: EventListQuery },
  responses: { 200: jsonResponse(paginated(EventOut, 'EventList'), 'Events'), ...errorResponses(400, 401, 404) },
});

export const ProjectEventParam = ProjectIdParam.extend({ event_id: z.string().min(1).max(100) });
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/events/{event_id}/',
  tags: ['events'],
  summary:
    'One event in full, by its event id or by the numeric id lists carry: message, stack trace, tags and extra uncut, structured data (exception chain with mechanism and frames, breadcrumbs, request, user, contexts), release, attachments; either kind, as an issue may hold error logs',
  security: [{ [bearerAuth.name]: [] }],
  request: { params: ProjectEventParam },
  responses: {
    200: jsonResponse(
      EventOut.extend({ release: z.string().nullable(), data: z.record(z.string(), z.unknown()) }).meta({ id: 'EventFull' }),
      'Event',
    ),
    ...errorResponses(400, 401, 404),
  },
});

import { ScrubbedOut } from '../../../domain/scrubbing/rules.ts';
import { z } from 'zod';
import { LevelSchema, TimestampSchema } from '../../../domain/events/record.ts';
import { DataideaLlmLogSchema } from '../../../domain/ingest/formats/dataidea.ts';
import { UserLogSchema } from '../../../domain/ingest/formats/logs.ts';
import { DataideaEventLogSchema } from '../../../domain/ingest/formats/dataidea.ts';
import { ORDERING_FIELDS, SEARCH_FIELD_NAMES } from '../../../domain/logs/filters.ts';
import { apiKeyAuth, bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { LIST_BOUNDS, truncatedFlag } from '../events/schema.ts';

const projectParam = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1)
  .optional()
  .meta({ description: 'Only this project (default: every project you can see)' });
const dateParam = (what: string) =>
  z
    .string()
    .max(64)
    .optional()
    .meta({ description: `${what}: ISO 8601 date-time, or a date (YYYY-MM-DD)` });
const boolParam = z.enum(['true', 'false', 'True', 'False', '1', '0']).transform((v) => v === 'true' || v === 'True' || v === '1');

/** The logs dashboard and central de erros filters (`env` is central de erros' name for environment). */
export const LogFilterQuery = z.object({
  search: z
    .string()
    .max(500)
    .optional()
    .meta({ description: 'Terms that must each appear (case-insensitive) in the message or source; "quotes" keep a phrase' }),
  field: z
    .string()
    .max(32)
    .optional()
    .meta({ description: `Central de erros: search only this field (${SEARCH_FIELD_NAMES.join(', ')})` }),
  severity: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'One severity or a comma list: DEBUG, INFO, WARNING, ERROR, CRITICAL (any case)' }),
  source: z.string().max(200).optional(),
  environment: z.string().max(100).optional().meta({ description: 'Exactly this environment, in any case' }),
  env: z.string().max(100).optional().meta({ description: 'Same as environment (central de erros): PRODUCTION matches production' }),
  date_from: dateParam('From (inclusive)'),
  date_to: dateParam('To (inclusive; a plain date covers that whole day)'),
  archived: boolParam.optional(),
  project: projectParam,
  ordering: z
    .string()
    .max(200)
    .optional()
    .meta({ description: `Comma list of ${ORDERING_FIELDS.join(', ')}; prefix - for descending. Default -timestamp` }),
});
export const LogListQuery = PageQuery.extend(LogFilterQuery.shape);

export const LogIdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be a log id') });

export const LogOut = z
  .object({
    id: z.number().int(),
    timestamp: z.string(),
    message: z.string(),
    message_truncated: truncatedFlag('message', 'cut'),
    severity: z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']),
    source: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    environment: z.string().nullable(),
    project: z.number().int(),
    archived: z.boolean(),
  })
  .meta({
    id: 'Log',
    example: {
      id: 1,
      timestamp: '2024-01-01T12:00:00.000Z',
      message: 'User login successful',
      severity: 'INFO',
      source: 'auth_service',
      created_at: '2024-01-01T12:00:00.000Z',
      updated_at: '2024-01-01T12:00:00.000Z',
      environment: 'production',
      project: 1,
      archived: false,
    },
  });

/** PUT replaces the editable fields (message and severity required); PATCH changes some. */
export const LogPutBody = z
  .object({
    message: z.string(),
    severity: LevelSchema,
    source: z.string().max(200).nullable().optional(),
    environment: z.string().max(100).nullable().optional(),
    timestamp: TimestampSchema.optional(),
    archived: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'LogUpdate' });
export const LogPatchBody = LogPutBody.partial()
  .strict()
  .meta({ id: 'LogPatch', example: { archived: true } });

const LogAccepted = z
  .object({
    event_id: z.string(),
    message: z.string(),
    severity: z.string(),
    source: z.string().nullable(),
    timestamp: z.string(),
    environment: z.string().nullable(),
    project: z.number().int(),
  })
  .meta({ id: 'LogAccepted', description: 'Queued. The log gets its numeric id once stored (it then shows in lists and the live tail).' });

// --- DataIdea lists -------------------------------------------------------------------

export const EventLogListQuery = PageQuery.extend({
  project: projectParam,
  level: z.string().max(200).optional().meta({ description: 'One level or a comma list (debug, info, warning, error, critical)' }),
  user_id: z.string().max(200).optional(),
  search: z.string().max(500).optional().meta({ description: 'Terms that must each appear in the message' }),
  date_from: dateParam('From (inclusive)'),
  date_to: dateParam('To (inclusive)'),
});

export const EventLogOut = z
  .object({
    id: z.number().int(),
    user_id: z.string().nullable(),
    message: z.string(),
    message_truncated: truncatedFlag('message', 'cut'),
    level: z.enum(['debug', 'info', 'warning', 'error', 'critical']),
    metadata: z.record(z.string(), z.unknown()),
    metadata_truncated: truncatedFlag('metadata', 'left out'),
    timestamp: z.string(),
    project: z.number().int(),
  })
  .meta({ id: 'EventLog' });

/** LLM logs can be megabytes each: a smaller page. */
export const LLM_MAX_PAGE_SIZE = 100;
export const LlmLogListQuery = PageQuery.extend({
  page_size: z.coerce.number().int().min(1).max(LLM_MAX_PAGE_SIZE).optional(),
  project: projectParam,
  source: z.string().max(200).optional(),
  model: z.string().max(200).optional(),
  user_id: z.string().max(200).optional(),
  search: z.string().max(500).optional().meta({ description: 'Terms that must each appear in the first 2000 characters of the query' }),
  date_from: dateParam('From (inclusive)'),
  date_to: dateParam('To (inclusive)'),
});

export const LlmLogIdParam = z.object({ id: z.string().regex(/^\d{1,18}$/, 'must be an LLM log id') });

export const LlmLogOut = z
  .object({
    id: z.number().int(),
    user_id: z.string().nullable(),
    source: z.string().nullable(),
    query: z.string(),
    query_truncated: truncatedFlag('query', 'cut'),
    response: z.string(),
    response_truncated: truncatedFlag('response', 'cut'),
    metadata: z.record(z.string(), z.unknown()),
    metadata_truncated: truncatedFlag('metadata', 'left out'),
    timestamp: z.string(),
    model: z.string().nullable(),
    prompt_tokens: z.number().int().nullable(),
    completion_tokens: z.number().int().nullable(),
    total_tokens: z.number().int().nullable(),
    latency_ms: z.number().nullable(),
    project: z.number().int(),
    cost: z.number().nullable().meta({
      description:
        'US dollars, from the price table when the call was stored (GET /api/llm-prices/); null when its model has no price or its tokens are unknown',
    }),
    cached_tokens: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'Prompt tokens read from the provider cache (a part of prompt_tokens)' }),
    error: z.string().nullable().meta({ description: 'Why the call failed; null when it did not' }),
    trace_id: z.string().nullable().meta({ description: 'The trace of the call: GET /api/traces/{trace_id}/' }),
    scrubbed: ScrubbedOut,
  })
  .meta({ id: 'LlmLog' });

// --- OpenAPI --------------------------------------------------------------------------

const user = [{ [bearerAuth.name]: [] }];
const SeedThreeAccepted = z
  .object({ status: z.literal('success').meta({ description: "As DataIdea's own server answered" }), event_id: z.string() })
  .meta({ id: 'DataideaAccepted' });
const batchOf = (s: z.ZodType) => ({ required: true, content: { 'application/json': { schema: z.union([s, z.array(s)]) } } });

registry.registerPath({
  method: 'post',
  path: '/api/event-log/',
  tags: ['ingest'],
  summary: 'Ingest an event log, or an array of them (DataIdea, DataIdea clients)',
  description: 'The key goes in `api_key` (or Authorization: Bearer). 202 only once durably queued. Limits as for /api/events/.',
  security: [{}, { [apiKeyAuth.name]: [] }],
  request: { body: batchOf(DataideaEventLogSchema) },
  responses: {
    202: jsonResponse(z.union([SeedThreeAccepted, z.array(SeedThreeAccepted)]), 'Queued'),
    ...errorResponses(400, 401, 403, 413, 415, 429, 503),
  },
});
registry.registerPath({
  method: 'post',
  path: '/api/llm-log/',
  tags: ['ingest'],
  summary: 'Ingest an LLM call log, or an array of them (DataIdea, DataIdea clients)',
  description: 'query and response may be up to 1 MB each (LLM_LOG_MAX_TEXT_BYTES). 202 only once durably queued.',
  security: [{}, { [apiKeyAuth.name]: [] }],
  request: { body: batchOf(DataideaLlmLogSchema) },
  responses: {
    202: jsonResponse(z.union([SeedThreeAccepted, z.array(SeedThreeAccepted)]), 'Queued'),
    ...errorResponses(400, 401, 403, 413, 415, 429, 503),
  },
});

for (const base of ['/api/logs', '/v1/api/logs']) {
  const seed = base === '/api/logs' ? 'the logs dashboard' : 'central de erros';
  registry.registerPath({
    method: 'get',
    path: `${base}/`,
    tags: ['logs'],
    summary: `Logs of the projects you can see, newest first (${seed})`,
    description: LIST_BOUNDS,
    security: user,
    request: { query: LogListQuery },
    responses: { 200: jsonResponse(paginated(LogOut, 'LogList'), 'Logs'), ...errorResponses(400, 401, 404) },
  });
  registry.registerPath({
    method: 'post',
    path: `${base}/`,
    tags: ['logs'],
    summary: `Create a log, or an array of them (${seed}); member role or above`,
    description: '202 only once durably queued. Without `project`, the log goes to your personal project.',
    security: user,
    request: { body: batchOf(UserLogSchema) },
    responses: {
      202: jsonResponse(z.union([LogAccepted, z.array(LogAccepted)]), 'Queued'),
      ...errorResponses(400, 401, 403, 404, 413, 429, 503),
    },
  });
  const params = { params: LogIdParam };
  registry.registerPath({
    method: 'get',
    path: `${base}/{id}/`,
    tags: ['logs'],
    summary: `One log, whole (${seed})`,
    security: user,
    request: params,
    responses: { 200: jsonResponse(LogOut, 'Log'), ...errorResponses(400, 401, 404) },
  });
  registry.registerPath({
    method: 'put',
    path: `${base}/{id}/`,
    tags: ['logs'],
    summary: `Replace a log's editable fields (${seed}); member role or above`,
    security: user,
    request: { ...params, body: jsonBody(LogPutBody) },
    responses: { 200: jsonResponse(LogOut, 'Updated'), ...errorResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'patch',
    path: `${base}/{id}/`,
    tags: ['logs'],
    summary: `Change some fields; {"archived": true} archives (${seed}); member role or above`,
    description: base === '/v1/api/logs' ? 'Central de erros: a PATCH with no body (or `{}`) archives the log.' : undefined,
    security: user,
    request: { ...params, body: { ...jsonBody(LogPatchBody), required: base === '/api/logs' } },
    responses: { 200: jsonResponse(LogOut, 'Updated'), ...errorResponses(400, 401, 403, 404) },
  });
  registry.registerPath({
    method: 'delete',
    path: `${base}/{id}/`,
    tags: ['logs'],
    summary: `Delete a log (${seed}); member role or above`,
    security: user,
    request: params,
    responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
  });
}
for (const base of ['/api/logs', '/v1/api/logs']) {
  registry.registerPath({
    method: 'get',
    path: `${base}/export/`,
    tags: ['logs'],
    summary: 'Every log matching the filters, as CSV (the logs dashboard), streamed from a database cursor',
    description:
      'Messages are whole. Memory stays flat whatever the row sizes (batches read by bytes, backpressure to the client). ' +
      "A cell that starts with =, +, -, @, tab or carriage return is prefixed with ' (and quoted) so spreadsheets do not run it as a formula.",
    security: user,
    request: { query: LogFilterQuery },
    responses: {
      200: {
        description: 'text/csv: a header, then one row per log',
        content: {
          'text/csv': {
            schema: z
              .string()
              .meta({ example: 'id,timestamp,severity,source,message,environment,project,archived,created_at,updated_at\n' }),
          },
        },
      },
      ...errorResponses(400, 401, 404),
    },
  });
}
registry.registerPath({
  method: 'get',
  path: '/api/event-logs/',
  tags: ['logs'],
  summary: 'Event logs in the DataIdea shape, newest first',
  description: LIST_BOUNDS,
  security: user,
  request: { query: EventLogListQuery },
  responses: { 200: jsonResponse(paginated(EventLogOut, 'EventLogList'), 'Event logs'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/event-logs/{id}/',
  tags: ['logs'],
  summary: "One event log, whole (message and metadata uncut); another project's is 404",
  security: user,
  request: { params: LogIdParam },
  responses: { 200: jsonResponse(EventLogOut, 'Event log'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/llm-logs/',
  tags: ['logs'],
  summary: 'LLM call logs (DataIdea), newest first, with model, tokens and latency lifted from metadata',
  description: LIST_BOUNDS,
  security: user,
  request: { query: LlmLogListQuery },
  responses: { 200: jsonResponse(paginated(LlmLogOut, 'LlmLogList'), 'LLM logs'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/llm-logs/{id}/',
  tags: ['logs'],
  summary: "One LLM call log, whole (query, response and metadata uncut); another project's is 404",
  security: user,
  request: { params: LlmLogIdParam },
  responses: { 200: jsonResponse(LlmLogOut, 'LLM log'), ...errorResponses(400, 401, 404) },
});

registry.registerPath({
  method: 'get',
  path: '/ws/logs/',
  tags: ['logs'],
  summary: 'Live tail (the logs dashboard): a WebSocket pushing {"type":"log_created","log":{…Log}} for each new log you can see',
  description:
    'Upgrade to WebSocket. Authenticate with `?token=<access token>`, or send `{"token": "<access token>"}` as the first ' +
    'message (within 10 s). Optional `project` and `severity` (comma lists) narrow the stream. The server first sends ' +
    '`{"type":"connection_established","projects":…,"severity":…}`. A bad or expired token is refused (401 at the handshake, ' +
    'or close code 4001); a project you cannot see is 404 / 4004; a client that stops reading is closed with 4008.',
  security: user,
  request: {
    query: z.object({
      token: z.string().optional(),
      project: z.string().optional().meta({ description: 'Project id, or a comma list' }),
      severity: z.string().optional().meta({ description: 'Severity, or a comma list' }),
    }),
  },
  responses: { 101: { description: 'Switching Protocols: the WebSocket is open' }, ...errorResponses(400, 401, 404) },
});

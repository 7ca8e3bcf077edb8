import { z } from 'zod';
import { bearerAuth, errorResponses, jsonResponse, registry } from '../../openapi.ts';

export const TraceParams = z.object({
  trace_id: z.string().max(64).meta({ description: '32 hex characters (W3C / OpenTelemetry / Sentry trace id)' }),
});
export const TraceQuery = z.object({
  project: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1)
    .optional()
    .meta({ description: 'Only this project (404 unless you can see it); default: every project you can see' }),
});

const Span = z.object({
  span_id: z.string(),
  parent_span_id: z.string().nullable(),
  depth: z.number().int().meta({ description: '0 for roots (spans whose parent is not in the trace)' }),
  offset_ms: z.number().meta({ description: 'Start, relative to the first span (microsecond-exact)' }),
  project: z.number().int(),
  name: z.string(),
  kind: z.string(),
  service: z.string().nullable(),
  environment: z.string().nullable(),
  start_time: z.string(),
  end_time: z.string(),
  duration_ms: z.number(),
  status_code: z.enum(['unset', 'ok', 'error']),
  status_message: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  events: z.array(z.unknown()),
  origin: z.string(),
});
const Err = z.object({
  id: z.number().int(),
  event_id: z.string(),
  project: z.number().int(),
  span_id: z.string().nullable(),
  timestamp: z.string(),
  level: z.string(),
  exception_type: z.string().nullable(),
  message: z.string(),
  service: z.string().nullable(),
  environment: z.string().nullable(),
  issue: z.number().int().nullable(),
});
const Log = z.object({
  id: z.number().int(),
  project: z.number().int(),
  span_id: z.string().nullable(),
  timestamp: z.string(),
  severity: z.string(),
  message: z.string(),
  source: z.string().nullable(),
  environment: z.string().nullable(),
});
const Llm = z.object({
  id: z.number().int(),
  project: z.number().int(),
  span_id: z.string().nullable(),
  timestamp: z.string(),
  model: z.string().nullable(),
  source: z.string().nullable(),
  prompt_tokens: z.number().int().nullable(),
  completion_tokens: z.number().int().nullable(),
  total_tokens: z.number().int().nullable(),
  cost: z.number().nullable(),
  latency_ms: z.number().nullable(),
  error: z.string().nullable(),
  query_excerpt: z.string().meta({ description: 'The first 200 characters of the prompt' }),
});
const kinds = <T extends z.ZodType>(t: T) => z.object({ spans: t, errors: t, logs: t, llm_calls: t });
export const TraceOut = z
  .object({
    trace_id: z.string(),
    projects: z.array(z.number().int()),
    start_time: z.string().nullable(),
    end_time: z.string().nullable(),
    duration_ms: z.number().nullable(),
    services: z.array(z.string()),
    counts: kinds(z.number().int()),
    truncated: kinds(z.boolean()).meta({
      description: 'A kind had more than the answer holds (10,000 spans; 1,000 errors, logs, LLM calls)',
    }),
    spans: z.array(Span).meta({ description: 'The span tree, depth-first (children by start time): the waterfall rows' }),
    errors: z.array(Err),
    logs: z.array(Log),
    llm_calls: z.array(Llm),
    timeline: z.array(
      z.object({ type: z.enum(['span', 'error', 'log', 'llm_call']), time: z.string(), id: z.string(), span_id: z.string().nullable() }),
    ),
  })
  .meta({ id: 'Trace' });

registry.registerPath({
  method: 'get',
  path: '/api/traces/{trace_id}/',
  tags: ['traces'],
  summary: 'One trace across every kind: its span tree, with the error events, logs and LLM calls that carry its trace id, in time order',
  description:
    'Spans come from OTLP traces, Langfuse and Sentry transactions/spans; errors from Sentry SDKs (contexts.trace), OTLP exceptions; logs from OTLP and Sentry logs; LLM calls from GenAI spans. A trace with nothing in a project you can see is 404.',
  security: [{ [bearerAuth.name]: [] }],
  request: { params: TraceParams, query: TraceQuery },
  responses: { 200: jsonResponse(TraceOut, 'The trace'), ...errorResponses(400, 401, 404) },
});

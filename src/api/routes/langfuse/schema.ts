import { z } from 'zod';
import { registry } from '../../openapi.ts';

export const langfuseBasicAuth = registry.registerComponent('securitySchemes', 'langfuseBasicAuth', {
  type: 'http',
  scheme: 'basic',
  description:
    "Langfuse's key pair: any public key as the user name, a Faultline project API key (ingest scope) as the password (the secret key)",
});

const Event = z
  .object({
    id: z.string().meta({ description: 'The event id (unique per event; the answer names it)' }),
    type: z.enum([
      'trace-create',
      'span-create',
      'span-update',
      'generation-create',
      'generation-update',
      'event-create',
      'score-create',
      'observation-create',
      'observation-update',
      'sdk-log',
    ]),
    timestamp: z.string().meta({ description: 'ISO 8601; of two events about one observation, the later wins where both set a field' }),
    body: z.record(z.string(), z.unknown()).meta({
      description: "Langfuse's body for the type: {id, traceId, name, startTime, endTime, model, input, output, usage, level, …}",
    }),
    metadata: z.unknown().optional(),
  })
  .meta({ id: 'LangfuseIngestionEvent' });

const Result = z
  .object({
    successes: z.array(z.object({ id: z.string(), status: z.literal(201) })),
    errors: z.array(z.object({ id: z.string(), status: z.number().int(), message: z.string(), error: z.string() })),
  })
  .meta({ id: 'LangfuseIngestionResponse' });

const LangfuseError = z
  .object({
    error: z.string().meta({ description: "Langfuse's error name, e.g. UnauthorizedError" }),
    message: z.string(),
    code: z.string(),
    details: z.unknown(),
  })
  .meta({ id: 'LangfuseError' });
const err = (description: string) => ({ description, content: { 'application/json': { schema: LangfuseError } } });

registry.registerPath({
  method: 'post',
  path: '/api/public/ingestion',
  tags: ['langfuse'],
  summary:
    "Langfuse's batch ingestion (classic SDKs: langfuse JS v3, langfuse-python v2): traces and observations → spans, generations → LLM logs",
  description:
    "Point the SDK at the server: `new Langfuse({publicKey: 'any', secretKey: '<api key>', baseUrl})`. Answers as Langfuse: 207 with one entry per " +
    'event in `successes` (201, durably queued) or `errors` (400 for an invalid event, which is not stored). Updates merge into their create, in any order and across batches.',
  security: [{ [langfuseBasicAuth.name]: [] }],
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ batch: z.array(Event), metadata: z.unknown().optional() }) } },
    },
  },
  responses: {
    207: { description: 'Per-event results', content: { 'application/json': { schema: Result } } },
    400: err('Not a {batch: [...]} body, or malformed JSON'),
    401: err('No key, or an unknown or revoked one'),
    403: err('The key lacks the ingest scope'),
    413: err('Body over the limit'),
    429: err('Shedding load: retry after Retry-After'),
    503: err('Queue unavailable: retry after Retry-After'),
  },
});

registry.registerPath({
  method: 'get',
  path: '/api/public/health',
  tags: ['langfuse'],
  summary: 'Langfuse\'s health check (`langfuse.api.healthHealth()`): {status: "OK", version}',
  responses: {
    200: { description: 'Up', content: { 'application/json': { schema: z.object({ status: z.literal('OK'), version: z.string() }) } } },
  },
});

for (const method of ['get', 'post'] as const) {
  registry.registerPath({
    method,
    path: '/api/public/{path}',
    tags: ['langfuse'],
    summary: "The rest of Langfuse's public API (prompts, datasets, scores, the read API): not served, a clear 501",
    request: { params: z.object({ path: z.string() }) },
    responses: { 501: err('Faultline receives Langfuse traces; it does not serve the rest of the Langfuse API') },
  });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access, ResolvedKey } from '../../../domain/access/index.ts';
import { AppError } from '../../../domain/errors.ts';
import { IngestionRequest } from '../../../domain/ingest/formats/langfuse/events.ts';
import { mapIngestionBatch } from '../../../domain/ingest/formats/langfuse/map.ts';
import { ingestedItems } from '../../../metrics.ts';
import type { TraceProducer } from '../../../queues/traceProducer.ts';
import { bodyDecoder, parseJson, readBody } from '../../http/body.ts';
import { ingestCorsHeaders, ingestPreflight } from '../../http/ingestCors.ts';
import { sendJson, toAppError } from '../../http/send.ts';
import type { IngestRoute } from '../../ingest/runner.ts';
import './schema.ts'; // OpenAPI registration

export interface LangfuseDeps {
  access: Access;
  traces: Pick<TraceProducer, 'assertCapacity' | 'enqueue'>;
  /** The largest body (Langfuse takes 4.5 MB; its SDKs send batches up to 3.5 MB). */
  maxRequestBytes: number;
  maxTextBytes: number;
}

/** Langfuse's error names, by status: its SDKs log `{error, message}` as they come. */
const NAMES: Record<number, string> = {
  400: 'InvalidRequestError',
  401: 'UnauthorizedError',
  403: 'ForbiddenError',
  404: 'LangfuseNotFoundError',
  405: 'MethodNotAllowedError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
  429: 'TooManyRequestsError',
  501: 'NotImplementedError',
  503: 'ServiceUnavailableError',
};

/**
 * A refusal as Langfuse's public API words it — `{error: <ErrorName>, message}` — with
 * our `code` and `details` beside it. Shedding load is 429 with Retry-After (the SDK
 * retries any failure with backoff).
 */
export function sendLangfuseError(req: IncomingMessage, res: ServerResponse, err: unknown): AppError {
  let e = toAppError(err);
  if (e.code === 'over_capacity') e = new AppError(429, e.code, e.message, e.details, e.headers);
  if (res.headersSent) res.destroy();
  else
    sendJson(
      res,
      e.status,
      { error: NAMES[e.status] ?? 'InternalServerError', message: e.message, code: e.code, details: e.details },
      { ...ingestCorsHeaders(req), ...e.headers },
    );
  return e;
}

/**
 * POST /api/public/ingestion — the batch endpoint of Langfuse's classic SDKs (langfuse JS
 * v3, langfuse-python v2). Basic auth `publicKey:secretKey` with a Faultline API key
 * (ingest scope) as the secret; the public key is not checked. Answers as Langfuse does:
 * 207 with a `successes`/`errors` entry per event — a bad event is refused alone, and a
 * 207 means every success is durably queued. A body that is not `{batch: [...]}` is 400.
 */
export function langfuseIngestionRoute(deps: LangfuseDeps): IngestRoute<ResolvedKey> {
  return {
    name: '/api/public/ingestion',
    kind: 'langfuse',
    methods: ['POST'],
    path: /^\/api\/public\/ingestion$/,
    refuse: sendLangfuseError,
    preflight: ingestPreflight,
    headers: async (req) => {
      const key = await deps.access.apiKey(req, { scope: 'ingest' });
      deps.traces.assertCapacity();
      bodyDecoder(req, deps.maxRequestBytes)?.destroy();
      return key;
    },
    body: async (req, res, key) => {
      const body = await readBody(req, deps.maxRequestBytes);
      const request = IngestionRequest.safeParse(parseJson(body));
      if (!request.success) {
        const errors = request.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
        throw new AppError(400, 'invalid_batch', 'Invalid request data', { errors });
      }
      const mapped = mapIngestionBatch(request.data.batch, key.projectId, new Date().toISOString(), { maxTextBytes: deps.maxTextBytes });
      await deps.traces.enqueue(mapped, body.length);
      if (mapped.spans.length) ingestedItems.inc({ kind: 'span' }, mapped.spans.length);
      if (mapped.llmLogs.length) ingestedItems.inc({ kind: 'llm' }, mapped.llmLogs.length);
      if (mapped.droppedScores) ingestedItems.inc({ kind: 'langfuse_score_dropped' }, mapped.droppedScores);
      sendJson(res, 207, { successes: mapped.successes, errors: mapped.errors }, ingestCorsHeaders(req));
    },
  };
}

/**
 * GET /api/public/health — what Langfuse's API client (`langfuse.api.healthHealth()`) and
 * deployment checks call: `{status: "OK", version}`, no credential needed (as Langfuse).
 */
export function langfuseHealthRoute(version: string): IngestRoute<null> {
  return {
    name: '/api/public/health',
    kind: 'langfuse',
    methods: ['GET'],
    path: /^\/api\/public\/health$/,
    refuse: sendLangfuseError,
    headers: async () => null,
    body: async (req, res) => sendJson(res, 200, { status: 'OK', version }, ingestCorsHeaders(req)),
  };
}

/**
 * Everything else of Langfuse's public API (prompts, datasets, scores, traces, media…):
 * Faultline stores what the SDKs send, it does not serve Langfuse's product API. A clear
 * 501 in Langfuse's error shape, so `langfuse.getPrompt()` fails at once with a reason
 * instead of a confusing 404 page (the SDK then uses its fallback prompt, if given).
 */
export function langfuseUnsupportedRoute(): IngestRoute<null> {
  return {
    name: '/api/public/{path}',
    kind: 'langfuse',
    methods: ['GET', 'POST'],
    path: /^\/api\/public\/(?!ingestion$|health$|otel\/)(?<rest>.+)$/,
    refuse: sendLangfuseError,
    preflight: ingestPreflight,
    headers: async (_req, params) => {
      throw new AppError(
        501,
        'langfuse_api_not_supported',
        `Faultline receives Langfuse traces (POST /api/public/ingestion, /api/public/otel/v1/traces); /api/public/${params.rest} (prompts, datasets, scores and the read API) is not served`,
      );
    },
    body: async () => undefined,
  };
}

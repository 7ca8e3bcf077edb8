import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Access, ResolvedKey } from '../../../domain/access/index.ts';
import { AppError, badRequest } from '../../../domain/errors.ts';
import {
  answerEncodingOf,
  CONTENT_TYPES,
  decodeRequest,
  encodeResponse,
  encodeStatus,
  encodingOf,
  type OtlpEncoding,
  type Signal,
} from '../../../domain/ingest/formats/otlp/decode.ts';
import { logsToRecords, type Mapped, type OtlpLimits } from '../../../domain/ingest/formats/otlp/logs.ts';
import { ingestedItems } from '../../../metrics.ts';
import { tracesToRecords } from '../../../domain/ingest/formats/otlp/traces.ts';
import type { LlmLogProducer, SpanProducer } from '../../../queues/llmLogProducer.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import type { Quotas, QuotaCategory } from '../../../domain/quotas/index.ts';
import { TraceProducer } from '../../../queues/traceProducer.ts';
import { bodyDecoder, readBody } from '../../http/body.ts';
import { ingestCorsHeaders, ingestPreflight } from '../../http/ingestCors.ts';
import { toAppError } from '../../http/send.ts';
import type { IngestRoute } from '../../ingest/runner.ts';
import './schema.ts'; // OpenAPI registration

export interface OtlpLimitsConfig extends OtlpLimits {
  /** The body after decoding gzip (and on the wire). */
  maxRequestBytes: number;
}

export interface OtlpDeps {
  access: Access;
  producer: EventProducer;
  llm: LlmLogProducer;
  spans: SpanProducer;
  limits: OtlpLimitsConfig;
  quotas: Quotas;
}

/** Where each signal is received: the spec's paths, and the same under /api/otlp/ (and, for traces, where Langfuse's SDKs export). */
const PATHS: Record<Signal | 'metrics', RegExp> = {
  logs: /^(?:\/api\/otlp)?\/v1\/logs$/,
  traces: /^(?:(?:\/api\/otlp)|(?:\/api\/public\/otel))?\/v1\/traces$/,
  metrics: /^(?:\/api\/otlp)?\/v1\/metrics$/,
};

/** Every answer carries CORS headers: browser exporters read it cross-origin (ingestCors.ts). */
function send(res: ServerResponse, status: number, body: Buffer, encoding: OtlpEncoding, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': CONTENT_TYPES[encoding],
    'Content-Length': body.length,
    ...ingestCorsHeaders(res.req),
    ...headers,
  });
  res.end(body);
}

/**
 * Failures as the OTLP/HTTP spec answers them: a google.rpc.Status in the request's
 * encoding. Shedding is 429 (queue over capacity) or 503 (Redis away), both with
 * Retry-After: the codes exporters retry on. Everything else is final for the exporter.
 */
function sendOtlpError(req: IncomingMessage, res: ServerResponse, err: unknown): AppError {
  let e = toAppError(err);
  if (e.code === 'over_capacity') e = new AppError(429, e.code, e.message, e.details, e.headers);
  if (res.headersSent) res.destroy();
  else
    send(
      res,
      e.status,
      encodeStatus(e, answerEncodingOf(req.headers['content-type'])),
      answerEncodingOf(req.headers['content-type']),
      e.headers,
    );
  return e;
}

/** Nothing accepted and something refused: the request as a whole is invalid (400), not a partial success. */
function assertSomethingAccepted(mapped: Pick<Mapped<unknown>, 'rejected' | 'errors'>, accepted: number, what: string): void {
  if (accepted === 0 && mapped.rejected > 0) {
    throw badRequest(
      `Every ${what} was rejected: ${mapped.errors.join('; ')}`,
      { rejected: mapped.rejected, errors: mapped.errors },
      'all_rejected',
    );
  }
}

const partialOf = (mapped: Pick<Mapped<unknown>, 'rejected' | 'errors'>) =>
  mapped.rejected
    ? { rejected: mapped.rejected, errorMessage: mapped.errors.join('; ') + (mapped.rejected > mapped.errors.length ? '; …' : '') }
    : null;

interface Authorized {
  key: ResolvedKey;
  encoding: OtlpEncoding;
}

/** The header phase both signals share: the body's encoding, the key (Bearer, X-Faultline-Key, or Basic for Langfuse), capacity, declared size. */
const authorized =
  (deps: OtlpDeps, assertCapacity: () => void, category: QuotaCategory) =>
  async (req: IncomingMessage): Promise<Authorized> => {
    const encoding = encodingOf(req.headers['content-type']);
    const key = await deps.access.apiKey(req, { scope: 'ingest' });
    assertCapacity();
    // Over quota: 429 + Retry-After, which the OTLP/HTTP spec makes retryable (after that delay).
    await deps.quotas.assertAvailable({ projectId: key.projectId, keyId: key.id }, category);
    bodyDecoder(req, deps.limits.maxRequestBytes)?.destroy();
    return { key, encoding };
  };

const OTLP = { kind: 'otlp', methods: ['POST'], refuse: sendOtlpError, preflight: ingestPreflight } as const;

/**
 * POST /v1/logs — OTLP/HTTP logs, protobuf or JSON: read (gzip, limits while inflating)
 * → decode → map (domain) → enqueue (durable before the 200) → answer.
 */
export function otlpLogsRoute(deps: OtlpDeps): IngestRoute<Authorized> {
  return {
    ...OTLP,
    name: '/v1/logs',
    path: PATHS.logs,
    headers: authorized(deps, () => deps.producer.assertCapacity(), 'log'),
    body: async (req, res, { key, encoding }) => {
      const body = await readBody(req, deps.limits.maxRequestBytes);
      const mapped = logsToRecords(decodeRequest('logs', body, encoding), key.projectId, new Date().toISOString(), deps.limits);
      assertSomethingAccepted(mapped, mapped.items.length, 'log record');
      await deps.quotas.takeRecords(mapped.items, 'log', key.id);
      if (mapped.items.length) await deps.producer.enqueue(mapped.items, body.length);
      for (const r of mapped.items) ingestedItems.inc({ kind: r.kind });
      send(res, 200, encodeResponse('logs', encoding, partialOf(mapped)), encoding);
    },
  };
}

/**
 * POST /v1/traces — OTLP/HTTP traces, the same shape: spans go to the spans store; spans
 * with an exception and status ERROR also become error events, GenAI spans LLM logs.
 * Also at /api/public/otel/v1/traces, where Langfuse's exporter sends (Basic auth with
 * the API key as the secret key).
 */
export function otlpTracesRoute(deps: OtlpDeps): IngestRoute<Authorized> {
  const producer = new TraceProducer(deps.producer, deps.llm, deps.spans);
  return {
    ...OTLP,
    name: '/v1/traces',
    path: PATHS.traces,
    headers: authorized(deps, () => producer.assertCapacity(), 'span'),
    body: async (req, res, { key, encoding }) => {
      const body = await readBody(req, deps.limits.maxRequestBytes);
      const mapped = tracesToRecords(decodeRequest('traces', body, encoding), key.projectId, new Date().toISOString(), deps.limits);
      assertSomethingAccepted(mapped, mapped.spans.length, 'span');
      // Spans count; the error events and LLM logs made from them are part of their trace.
      await deps.quotas.takeRecords(mapped.spans, 'span', key.id);
      await producer.enqueue(mapped, body.length);
      ingestedItems.inc({ kind: 'span' }, mapped.spans.length);
      if (mapped.events.length) ingestedItems.inc({ kind: 'error' }, mapped.events.length);
      if (mapped.llmLogs.length) ingestedItems.inc({ kind: 'llm' }, mapped.llmLogs.length);
      send(res, 200, encodeResponse('traces', encoding, partialOf(mapped)), encoding);
    },
  };
}

/** POST /v1/metrics — not a signal Faultline stores: a clear 404 (never a silent 200), so the exporter stops. */
export function otlpMetricsRoute(): IngestRoute<null> {
  return {
    ...OTLP,
    name: '/v1/metrics',
    path: PATHS.metrics,
    headers: async () => {
      throw new AppError(
        404,
        'signal_not_supported',
        'Faultline receives OTLP logs (/v1/logs) and traces (/v1/traces), not metrics: unset OTEL_METRICS_EXPORTER or set it to none',
      );
    },
    body: async () => undefined,
  };
}

/** The OTLP receivers, for the ingest table. */
export const otlpRoutes = (deps: OtlpDeps): IngestRoute[] =>
  [otlpLogsRoute(deps), otlpTracesRoute(deps), otlpMetricsRoute()] as IngestRoute[];

export { sendOtlpError, send as sendOtlp, assertSomethingAccepted, partialOf };

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import { Access, type ApiKeyResolver } from '../../../domain/access/index.ts';
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
import { ingestedItems, ingestRejected, observeHttp } from '../../../metrics.ts';
import { tracesToRecords } from '../../../domain/ingest/formats/otlp/traces.ts';
import type { LlmLogProducer, SpanProducer } from '../../../queues/llmLogProducer.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import { TraceProducer } from '../../../queues/traceProducer.ts';
import { readBody } from '../../http/body.ts';
import { toAppError } from '../../http/send.ts';
import './schema.ts'; // OpenAPI registration

export interface OtlpLimitsConfig extends OtlpLimits {
  /** The body after decoding gzip (and on the wire). */
  maxRequestBytes: number;
}

export interface OtlpDeps {
  ds: DataSource;
  keys: ApiKeyResolver;
  producer: EventProducer;
  llm: LlmLogProducer;
  spans: SpanProducer;
  limits: OtlpLimitsConfig;
}

/** Where each signal is received: the spec's paths, and the same under /api/otlp/. */
export const OTLP_PATHS: Record<Signal | 'metrics', string[]> = {
  logs: ['/v1/logs', '/api/otlp/v1/logs'],
  // The last is where Langfuse's SDKs export (<baseUrl>/api/public/otel/v1/traces).
  traces: ['/v1/traces', '/api/otlp/v1/traces', '/api/public/otel/v1/traces'],
  metrics: ['/v1/metrics', '/api/otlp/v1/metrics'],
};

function send(res: ServerResponse, status: number, body: Buffer, encoding: OtlpEncoding, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': CONTENT_TYPES[encoding], 'Content-Length': body.length, ...headers });
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

/**
 * POST /v1/logs — OTLP/HTTP logs, protobuf or JSON, on the lean path: authenticate →
 * capacity → read (gzip, limits while inflating) → decode → map (domain) → enqueue
 * (durable before the 200) → answer.
 */
export function otlpLogsHandler(deps: OtlpDeps) {
  const access = new Access(deps.ds, deps.keys);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let status = 200;
    try {
      const encoding = encodingOf(req.headers['content-type']);
      const key = await access.apiKey(req, { scope: 'ingest' });
      deps.producer.assertCapacity();
      const body = await readBody(req, deps.limits.maxRequestBytes);
      const request = decodeRequest('logs', body, encoding);
      const mapped = logsToRecords(request, key.projectId, new Date().toISOString(), deps.limits);
      assertSomethingAccepted(mapped, mapped.items.length, 'log record');
      if (mapped.items.length) await deps.producer.enqueue(mapped.items, body.length);
      for (const r of mapped.items) ingestedItems.inc({ kind: r.kind });
      send(res, 200, encodeResponse('logs', encoding, partialOf(mapped)), encoding);
    } catch (err) {
      status = sendOtlpError(req, res, err).status;
      ingestRejected.inc({ kind: 'otlp', status: String(status) });
    } finally {
      observeHttp('POST', '/v1/logs', status, started);
    }
  };
}

/**
 * POST /v1/traces — OTLP/HTTP traces, the same shape: spans go to the spans store; spans
 * with an exception and status ERROR also become error events, GenAI spans LLM logs.
 * Also at /api/public/otel/v1/traces, where Langfuse's exporter sends (Basic auth with
 * the API key as the secret key).
 */
export function otlpTracesHandler(deps: OtlpDeps, route = '/v1/traces') {
  const access = new Access(deps.ds, deps.keys);
  const producer = new TraceProducer(deps.producer, deps.llm, deps.spans);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let status = 200;
    try {
      const encoding = encodingOf(req.headers['content-type']);
      const key = await access.apiKey(req, { scope: 'ingest' });
      producer.assertCapacity();
      const body = await readBody(req, deps.limits.maxRequestBytes);
      const request = decodeRequest('traces', body, encoding);
      const mapped = tracesToRecords(request, key.projectId, new Date().toISOString(), deps.limits);
      assertSomethingAccepted(mapped, mapped.spans.length, 'span');
      await producer.enqueue(mapped, body.length);
      ingestedItems.inc({ kind: 'span' }, mapped.spans.length);
      if (mapped.events.length) ingestedItems.inc({ kind: 'error' }, mapped.events.length);
      if (mapped.llmLogs.length) ingestedItems.inc({ kind: 'llm' }, mapped.llmLogs.length);
      send(res, 200, encodeResponse('traces', encoding, partialOf(mapped)), encoding);
    } catch (err) {
      status = sendOtlpError(req, res, err).status;
      ingestRejected.inc({ kind: 'otlp', status: String(status) });
    } finally {
      observeHttp('POST', route, status, started);
    }
  };
}

/** POST /v1/metrics — not a signal Faultline stores: a clear 404 (never a silent 200), so the exporter stops. */
export function otlpMetricsHandler() {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const e = new AppError(
      404,
      'signal_not_supported',
      'Faultline receives OTLP logs (/v1/logs) and traces (/v1/traces), not metrics: unset OTEL_METRICS_EXPORTER or set it to none',
    );
    send(res, 404, encodeStatus(e, answerEncodingOf(req.headers['content-type'])), answerEncodingOf(req.headers['content-type']));
    observeHttp('POST', '/v1/metrics', 404, process.hrtime.bigint());
  };
}

export { sendOtlpError, send as sendOtlp, assertSomethingAccepted, partialOf };

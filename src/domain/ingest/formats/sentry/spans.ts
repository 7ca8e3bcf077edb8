/**
 * Sentry's tracing onto the spans store: `transaction` items (a root span in
 * `contexts.trace` plus its `spans`, what SDKs send with traceLifecycle "static") and
 * `span` items (span streaming, the default of @sentry/node 11: `{"version": 2, "items":
 * [...]}` with typed attributes; or one v1 span per item). AI spans (`gen_ai.*`, `ai.*`
 * — Sentry's AI monitoring integrations) also become LLM logs, through the same mapping
 * as OTLP's (../ingest/formats/otlp/genai.ts).
 */
import { config } from '../../../../config.ts';
import { clip } from '../../../events/record.ts';
import { genaiToLlmLog } from '../otlp/genai.ts';
import { MAX_FUTURE_MS } from '../otlp/values.ts';
import type { LlmLogRecord } from '../../../logs/llmRecord.ts';
import type { SpanKind, SpanRecord, SpanStatus } from '../../../spans/record.ts';
import { cleanJson, cleanText } from '../../../events/record.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

const hex = (v: unknown, length: 16 | 32): string | null => {
  const s = typeof v === 'string' ? v.replaceAll('-', '').toLowerCase() : '';
  return s.length === length && /^[0-9a-f]+$/.test(s) && !/^0+$/.test(s) ? s : null;
};

/** `contexts.trace` → the event's trace and span ids (null when absent or malformed): what links an error to its trace. */
export function traceIdsOf(contexts: unknown): { trace_id: string | null; span_id: string | null } {
  const trace = isObj(contexts) && isObj(contexts.trace) ? contexts.trace : {};
  const traceId = hex(trace.trace_id, 32);
  return { trace_id: traceId, span_id: traceId ? hex(trace.span_id, 16) : null };
}

export interface SentryTraceLimits {
  maxAttributes: number;
  maxItems: number;
  maxTextBytes: number;
}

export interface SentrySpans {
  spans: SpanRecord[];
  llmLogs: LlmLogRecord[];
  /** Spans refused (bad ids or times, too many attributes); Sentry has no way to be told, so they are counted. */
  rejected: number;
}

class Bad extends Error {}

function kindOf(op: string | null): SpanKind {
  if (!op) return 'internal';
  if (op.startsWith('http.server') || op === 'function.nextjs' || op.startsWith('rpc.server')) return 'server';
  if (
    op.startsWith('http.client') ||
    op.startsWith('db') ||
    op.startsWith('cache') ||
    op.startsWith('gen_ai') ||
    op.startsWith('ai.') ||
    op.startsWith('rpc.client')
  )
    return 'client';
  if (op.startsWith('queue.publish')) return 'producer';
  if (op.startsWith('queue.process') || op.startsWith('queue.task')) return 'consumer';
  return 'internal';
}

/** Sentry's span statuses: "ok", nothing (unset), or a reason it failed (internal_error, deadline_exceeded, …). */
function statusOf(v: unknown): { code: SpanStatus; message: string | null } {
  const s = str(v);
  if (!s) return { code: 'unset', message: null };
  if (s === 'ok') return { code: 'ok', message: null };
  return { code: 'error', message: clip(s, 1000) };
}

/** Seconds since the epoch (a float) as microseconds; null when missing or not a sane time. */
function micros(v: unknown, receivedMs: number): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Number(v) : NaN;
  if (!Number.isFinite(n) || n <= 0) return null;
  if (n * 1000 > receivedMs + MAX_FUTURE_MS) throw new Bad('a timestamp lies in the future');
  return Math.round(n * 1e6);
}

function isoOfMicros(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString();
  return `${iso.slice(0, -1)}${String(us % 1000).padStart(3, '0')}Z`;
}

/** v2 attributes are `{key: {value, type}}`; v1 data is plain. */
function plainAttributes(v: unknown, limits: SentryTraceLimits): Obj {
  if (!isObj(v)) return {};
  const entries = Object.entries(v);
  if (entries.length > limits.maxAttributes) throw new Bad(`a span has ${entries.length} attributes; the limit is ${limits.maxAttributes}`);
  const out: Obj = {};
  for (const [k, a] of entries) out[k] = isObj(a) && 'value' in a && ('type' in a || Object.keys(a).length === 1) ? a.value : a;
  return out;
}

interface Common {
  projectId: number;
  receivedAt: string;
  receivedMs: number;
  environment: string | null;
  release: string | null;
  resource: Obj;
  limits: SentryTraceLimits;
}

/** A `service` for the spans: OpenTelemetry's service.name if the SDK set one, else the release's name part ("shop@1.2.3" → "shop"). */
const serviceOf = (attributes: Obj, release: string | null) =>
  clip(str(attributes['service.name']) ?? (release?.includes('@') ? release.split('@')[0] : null), 200);

function spanRecord(
  raw: {
    trace_id: unknown;
    span_id: unknown;
    parent_span_id: unknown;
    name: string;
    op: string | null;
    start: unknown;
    end: unknown;
    status: unknown;
    attributes: Obj;
    origin: string | null;
  },
  c: Common,
): SpanRecord {
  const traceId = hex(raw.trace_id, 32);
  const spanId = hex(raw.span_id, 16);
  if (!traceId || !spanId) throw new Bad('trace_id or span_id missing or malformed');
  const start = micros(raw.start, c.receivedMs);
  if (start === null) throw new Bad('start_timestamp missing');
  const end = micros(raw.end, c.receivedMs) ?? start;
  if (end < start) throw new Bad('a span ends before it starts');
  const status = statusOf(raw.status);
  const attributes = cleanJson(
    raw.op && raw.attributes['sentry.op'] === undefined ? { ...raw.attributes, 'sentry.op': raw.op } : raw.attributes,
  ) as Obj;
  return {
    project_id: c.projectId,
    trace_id: traceId,
    span_id: spanId,
    parent_span_id: hex(raw.parent_span_id, 16),
    name: clip(cleanText(raw.name), 1000) ?? '',
    kind: kindOf(raw.op),
    start_time: isoOfMicros(start),
    end_time: isoOfMicros(end),
    duration_ms: (end - start) / 1000,
    status_code: status.code,
    status_message: status.message,
    service: serviceOf(attributes, c.release),
    environment: clip(str(attributes['sentry.environment']) ?? c.environment, 100),
    attributes,
    resource: c.resource,
    scope: raw.origin ? { name: clip(raw.origin, 200), version: null } : null,
    events: [],
    links: [],
    origin: 'sentry',
    received_at: c.receivedAt,
  };
}

function collect(makers: Array<() => SpanRecord>, c: Common): SentrySpans {
  const out: SentrySpans = { spans: [], llmLogs: [], rejected: 0 };
  for (const make of makers.slice(0, c.limits.maxItems)) {
    try {
      const span = make();
      out.spans.push(span);
      const llm = genaiToLlmLog(span, c.receivedAt, c.limits);
      if (llm) out.llmLogs.push(llm);
    } catch (err) {
      if (!(err instanceof Bad)) throw err;
      out.rejected++;
    }
  }
  out.rejected += Math.max(0, makers.length - c.limits.maxItems);
  return out;
}

/** A `transaction` item: the root span (contexts.trace) and its child spans. */
export function sentryTransactionToSpans(payload: unknown, projectId: number, receivedAt: string, limits: SentryTraceLimits): SentrySpans {
  if (!isObj(payload)) return { spans: [], llmLogs: [], rejected: 1 };
  const trace = isObj(payload.contexts) && isObj(payload.contexts.trace) ? payload.contexts.trace : {};
  const release = str(payload.release);
  const c: Common = {
    projectId,
    receivedAt,
    receivedMs: Date.parse(receivedAt),
    environment: str(payload.environment),
    release,
    resource: cleanJson({
      release,
      environment: str(payload.environment),
      server_name: str(payload.server_name),
      sdk: isObj(payload.sdk) ? payload.sdk.name : undefined,
    }) as Obj,
    limits,
  };
  const root = () =>
    spanRecord(
      {
        trace_id: trace.trace_id,
        span_id: trace.span_id,
        parent_span_id: trace.parent_span_id,
        name: str(payload.transaction) ?? str(trace.op) ?? '',
        op: str(trace.op),
        start: payload.start_timestamp,
        end: payload.timestamp,
        status: trace.status,
        attributes: { ...plainAttributes(trace.data, limits), ...(isObj(payload.tags) ? payload.tags : {}) },
        origin: str(trace.origin),
      },
      c,
    );
  const children = (Array.isArray(payload.spans) ? payload.spans : []).filter(isObj).map(
    (s) => () =>
      spanRecord(
        {
          trace_id: s.trace_id ?? trace.trace_id,
          span_id: s.span_id,
          parent_span_id: s.parent_span_id,
          name: str(s.description) ?? str(s.op) ?? '',
          op: str(s.op),
          start: s.start_timestamp,
          end: s.timestamp,
          status: s.status,
          attributes: { ...plainAttributes(s.data, limits), ...(isObj(s.tags) ? s.tags : {}) },
          origin: str(s.origin),
        },
        c,
      ),
  );
  return collect([root, ...children], c);
}

/** A `span` item: span streaming's `{"version": 2, "items": [...]}`, or one v1 span. */
export function sentrySpanItemToSpans(
  payload: unknown,
  projectId: number,
  receivedAt: string,
  limits: SentryTraceLimits,
  envelope: { release?: unknown; environment?: unknown } = {},
): SentrySpans {
  const items = isObj(payload) && Array.isArray(payload.items) ? payload.items.filter(isObj) : isObj(payload) ? [payload] : [];
  const c: Common = {
    projectId,
    receivedAt,
    receivedMs: Date.parse(receivedAt),
    environment: str(envelope.environment),
    release: str(envelope.release),
    resource: {},
    limits,
  };
  return collect(
    items.map((s) => () => {
      const attributes = plainAttributes(s.attributes ?? s.data, limits);
      return spanRecord(
        {
          trace_id: s.trace_id,
          span_id: s.span_id,
          parent_span_id: s.parent_span_id,
          name: str(s.name) ?? str(s.description) ?? str(attributes['sentry.op']) ?? '',
          op: str(attributes['sentry.op']) ?? str(s.op),
          start: s.start_timestamp,
          end: s.end_timestamp ?? s.timestamp,
          status: s.status,
          attributes,
          origin: str(attributes['sentry.origin']) ?? str(s.origin),
        },
        { ...c, release: str(attributes['sentry.release']) ?? c.release },
      );
    }),
    c,
  );
}

/** One envelope item of type `transaction` or `span`, whichever it is. */
export function sentryTraceItem(
  type: 'transaction' | 'span',
  payload: unknown,
  projectId: number,
  receivedAt: string,
  envelopeTrace: unknown,
  limits: SentryTraceLimits = { ...config.otlp, maxTextBytes: config.llmLogs.maxTextBytes },
): SentrySpans {
  if (type === 'transaction') return sentryTransactionToSpans(payload, projectId, receivedAt, limits);
  return sentrySpanItemToSpans(payload, projectId, receivedAt, limits, isObj(envelopeTrace) ? envelopeTrace : {});
}

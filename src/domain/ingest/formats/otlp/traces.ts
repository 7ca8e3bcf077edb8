/**
 * OTLP traces (an ExportTraceServiceRequest, decoded by decode.ts) → span records, plus
 * what some spans also are:
 *
 * | OTLP span                                          | Faultline                              |
 * |----------------------------------------------------|----------------------------------------|
 * | trace_id, span_id, parent_span_id (hex)            | the spans store, one row per span      |
 * | name, kind, start/end time, status, attributes, events, links | the same columns (duration_ms = end − start) |
 * | resource `service.name`, `deployment.environment(.name)` | service, environment              |
 * | status ERROR with an `exception` event             | an error event per exception (type, message, stack trace), in the span's trace |
 * | `gen_ai.*` / `langfuse.observation.*` attributes   | an LLM log (genai.ts)                  |
 *
 * A span that breaks a limit (ids of the wrong length or missing, no start time, an end
 * before its start, a time in the future, too many attributes or events) is rejected
 * alone and counted in the answer's partial_success.
 */
import { createHash } from 'node:crypto';
import { payloadTooLarge } from '../../../errors.ts';
import { cleanText, clip, type EventRecord } from '../../../events/record.ts';
import type { LlmLogRecord } from '../../../logs/llmRecord.ts';
import { SPAN_KINDS, type SpanRecord, type SpanStatus } from '../../../spans/record.ts';
import type { Message } from './decode.ts';
import { genaiToLlmLog } from './genai.ts';
import { Rejections, type OtlpLimits } from './logs.ts';
import { asString, attributesOf, hexId, isoOfNanos, msOfNanos, Rejected, resourceOf, scopeOf, timeOf } from './values.ts';

type Msg = Record<string, unknown>;
const list = (v: unknown): Msg[] => (Array.isArray(v) ? (v as Msg[]) : []);

/** Span events and links per span: more is a client bug (OTel SDKs stop at 128). */
export const MAX_SPAN_EVENTS = 1000;

export interface TraceRecords {
  spans: SpanRecord[];
  /** Error events made from spans with status ERROR and an exception event. */
  events: EventRecord[];
  /** LLM logs made from GenAI spans. */
  llmLogs: LlmLogRecord[];
  rejected: number;
  errors: string[];
}

export function countSpans(req: Message, maxItems: number): number {
  let n = 0;
  for (const rs of list(req.resourceSpans)) for (const ss of list(rs.scopeSpans)) n += list(ss.spans).length;
  if (n > maxItems)
    throw payloadTooLarge(`A request holds at most ${maxItems} spans; this one has ${n}`, { max_items: maxItems, items: n });
  return n;
}

const STATUS: Record<number, SpanStatus> = { 0: 'unset', 1: 'ok', 2: 'error' };

export function tracesToRecords(req: Message, projectId: number, receivedAt: string, limits: OtlpLimits, origin = 'otlp'): TraceRecords {
  countSpans(req, limits.maxItems);
  const receivedMs = Date.parse(receivedAt);
  const out: TraceRecords = { spans: [], events: [], llmLogs: [], rejected: 0, errors: [] };
  const rejections = new Rejections();
  list(req.resourceSpans).forEach((rs, r) => {
    let resource;
    try {
      resource = resourceOf(rs.resource, limits);
    } catch (err) {
      for (const ss of list(rs.scopeSpans)) for (let i = 0; i < list(ss.spans).length; i++) rejections.add(`resource_spans[${r}]`, err);
      return;
    }
    list(rs.scopeSpans).forEach((ss, s) => {
      const scope = scopeOf(ss.scope);
      list(ss.spans).forEach((span, i) => {
        try {
          const record = spanRecord(span, { projectId, receivedAt, receivedMs, resource, scope, limits, origin });
          out.spans.push(record);
          out.events.push(...exceptionEvents(record, resource.version, receivedAt));
          const llm = genaiToLlmLog(record, receivedAt, limits);
          if (llm) out.llmLogs.push(llm);
        } catch (err) {
          rejections.add(`resource_spans[${r}].scope_spans[${s}].spans[${i}]`, err);
        }
      });
    });
  });
  out.rejected = rejections.count;
  out.errors = rejections.errors;
  return out;
}

interface Context {
  projectId: number;
  receivedAt: string;
  receivedMs: number;
  resource: ReturnType<typeof resourceOf>;
  scope: ReturnType<typeof scopeOf>;
  limits: OtlpLimits;
  origin: string;
}

function spanRecord(span: Msg, c: Context): SpanRecord {
  const traceId = hexId(span.traceId, 16, 'trace_id');
  const spanId = hexId(span.spanId, 8, 'span_id');
  if (!traceId) throw new Rejected('trace_id is missing (or all zero)');
  if (!spanId) throw new Rejected('span_id is missing (or all zero)');
  const start = timeOf(span.startTimeUnixNano, c.receivedMs, 'start_time_unix_nano');
  if (start === null) throw new Rejected('start_time_unix_nano is missing');
  const end = timeOf(span.endTimeUnixNano, c.receivedMs, 'end_time_unix_nano') ?? start;
  if (end < start) throw new Rejected('end_time_unix_nano is before start_time_unix_nano');
  const events = list(span.events);
  const links = list(span.links);
  if (events.length > MAX_SPAN_EVENTS) throw new Rejected(`a span has ${events.length} events; the limit is ${MAX_SPAN_EVENTS}`);
  if (links.length > MAX_SPAN_EVENTS) throw new Rejected(`a span has ${links.length} links; the limit is ${MAX_SPAN_EVENTS}`);
  const status = (span.status ?? {}) as Msg;
  const attributes = attributesOf(span.attributes, c.limits, 'span');
  return {
    project_id: c.projectId,
    trace_id: traceId,
    span_id: spanId,
    parent_span_id: hexId(span.parentSpanId, 8, 'parent_span_id'),
    name: clip(typeof span.name === 'string' ? span.name : '', 1000) ?? '',
    kind: SPAN_KINDS[Number(span.kind)] ?? 'unspecified',
    start_time: isoOfNanos(start),
    end_time: isoOfNanos(end),
    duration_ms: msOfNanos(end - start),
    status_code: STATUS[Number(status.code)] ?? 'unset',
    status_message: typeof status.message === 'string' && status.message ? cleanText(status.message) : null,
    service: c.resource.service,
    // Langfuse's SDK puts the environment on each span, not on the resource.
    environment:
      c.resource.environment ??
      clip(asString(attributes['langfuse.environment']) ?? asString(attributes['deployment.environment.name']), 100),
    attributes,
    resource: c.resource.attributes,
    scope: c.scope.name || c.scope.version ? c.scope : null,
    events: events.map((e) => ({
      name: clip(typeof e.name === 'string' ? e.name : '', 200) ?? '',
      time: isoOfNanos(timeOf(e.timeUnixNano, c.receivedMs, 'events.time_unix_nano') ?? start),
      attributes: attributesOf(e.attributes, c.limits, 'span event'),
    })),
    links: links.flatMap((l) => {
      const t = hexId(l.traceId, 16, 'links.trace_id');
      const s = hexId(l.spanId, 8, 'links.span_id');
      return t && s ? [{ trace_id: t, span_id: s, attributes: attributesOf(l.attributes, c.limits, 'span link') }] : [];
    }),
    origin: c.origin,
    received_at: c.receivedAt,
  };
}

/** Ids derived from the span, so an exporter's retry stores each error once. */
const derivedId = (...parts: string[]) => createHash('sha256').update(parts.join(':')).digest('hex').slice(0, 32);

/**
 * A span with status ERROR and `exception` events (the semantic conventions' way to
 * record an exception on a span) → one error event per exception, in the span's trace.
 */
export function exceptionEvents(span: SpanRecord, release: string | null, receivedAt: string, origin = span.origin): EventRecord[] {
  if (span.status_code !== 'error') return [];
  const out: EventRecord[] = [];
  span.events.forEach((e, i) => {
    if (e.name !== 'exception') return;
    const a = e.attributes;
    const type = asString(a['exception.type']);
    const message = asString(a['exception.message']) ?? span.status_message ?? span.name;
    const stack = asString(a['exception.stacktrace']);
    const tags: Record<string, unknown> = { transaction: span.name };
    if (release) tags.release = release;
    out.push({
      project_id: span.project_id,
      event_id: derivedId(span.trace_id, span.span_id, 'exception', String(i)),
      kind: 'error',
      event_type: 'exception',
      timestamp: e.time,
      received_at: receivedAt,
      level: 'error',
      message: cleanText(message),
      exception_type: clip(type ?? 'Error', 255),
      stacktrace: stack ? cleanText(stack) : null,
      environment: span.environment,
      service: span.service,
      user_ref: clip(asString(span.attributes['user.id']) ?? asString(span.attributes['enduser.id']), 200),
      tags,
      extra: {
        span: { name: span.name, kind: span.kind, attributes: span.attributes, status_message: span.status_message },
        exception: a,
        resource: span.resource,
      },
      origin,
      trace_id: span.trace_id,
      span_id: span.span_id,
    });
  });
  return out;
}

/**
 * Langfuse's batch ingestion events → what Faultline stores (README "Langfuse's SDKs"):
 *
 * | event                                   | stored as                                          |
 * |-----------------------------------------|----------------------------------------------------|
 * | trace-create                            | the trace's root span (name, user, session, tags…) |
 * | span-create / span-update               | a span under its parent observation (or the trace) |
 * | event-create                            | a span of no duration                              |
 * | generation-create / generation-update   | a span, and an LLM log (model, usage, cost…)       |
 * | observation-create / observation-update | as its body's type (GENERATION, SPAN, EVENT)       |
 * | score-create                            | `langfuse.score.<name>` on the span it scores      |
 * | sdk-log                                 | dropped (Langfuse logs and drops them too)         |
 *
 * Creates and updates about one observation may come in any order and in separate
 * batches: every record is flagged `merge`, and the workers merge it into what is stored
 * (newer event timestamps win), so nothing is duplicated and retries change nothing.
 */
import { cleanJson, clip } from '../../../events/record.ts';
import type { LlmLogRecord } from '../../../logs/llmRecord.ts';
import type { SpanRecord } from '../../../spans/record.ts';
import type { TraceBundle } from '../../../../queues/traceProducer.ts';
import { IngestionEvent, type ObservationBody, type ScoreBody, type TraceBody } from './events.ts';
import { llmEventIdOf, rootSpanIdOf, spanIdOf, traceIdOf } from './ids.ts';

export interface LangfuseLimits {
  /** A prompt or a response (or a span's input/output attribute) longer than this is cut. */
  maxTextBytes: number;
}

/** One event's answer in the 207, as Langfuse words it. */
export interface EventError {
  id: string;
  status: number;
  message: string;
  error: string;
}

export interface Mapped extends TraceBundle {
  successes: Array<{ id: string; status: 201 }>;
  errors: EventError[];
  /** Scores without a trace to hang on (session or dataset-run scores): accepted and dropped. */
  droppedScores: number;
}

type Attrs = Record<string, unknown>;
const iso = (s: string | null | undefined): string | null => (s ? new Date(s).toISOString() : null);
const json = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));

function put(attrs: Attrs, key: string, value: unknown): void {
  if (value !== undefined && value !== null) attrs[key] = value;
}

function text(v: unknown, limits: LangfuseLimits): string | null {
  const s = json(v);
  return s === null ? null : clip(s, limits.maxTextBytes);
}

function idOf(event: unknown): string {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : 'unknown';
}

function zodMessage(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(event)'}: ${i.message}`).join('; ');
}

interface Ctx {
  projectId: number;
  receivedAt: string;
  limits: LangfuseLimits;
}

function baseSpan(ctx: Ctx, traceId: string, spanId: string, eventAt: string, start: string | null, end: string | null): SpanRecord {
  const startTime = start ?? end ?? eventAt;
  const endTime = end && end > startTime ? end : startTime;
  return {
    project_id: ctx.projectId,
    trace_id: traceId,
    span_id: spanId,
    parent_span_id: null,
    name: '',
    kind: 'internal',
    start_time: startTime,
    end_time: endTime,
    duration_ms: Date.parse(endTime) - Date.parse(startTime),
    status_code: 'unset',
    status_message: null,
    service: null,
    environment: null,
    attributes: {},
    resource: {},
    scope: { name: 'langfuse', version: null },
    events: [],
    links: [],
    origin: 'langfuse',
    received_at: ctx.receivedAt,
    merge: true,
  };
}

function traceSpan(ctx: Ctx, eventId: string, eventAt: string, body: TraceBody): SpanRecord {
  const langfuseId = body.id ?? eventId;
  const traceId = traceIdOf(langfuseId);
  const start = iso(body.timestamp);
  const span = baseSpan(ctx, traceId, rootSpanIdOf(langfuseId), eventAt, start, null);
  span.name = clip(body.name, 1000) ?? '';
  span.environment = clip(body.environment, 100);
  const a = span.attributes;
  put(a, 'langfuse.event_at', eventAt);
  put(a, 'langfuse.trace.id', langfuseId);
  put(a, 'langfuse.start_time', start);
  put(a, 'langfuse.trace.name', body.name);
  put(a, 'langfuse.user.id', body.userId);
  put(a, 'langfuse.session.id', body.sessionId);
  put(a, 'langfuse.release', body.release);
  put(a, 'langfuse.version', body.version);
  put(a, 'langfuse.trace.tags', body.tags);
  put(a, 'langfuse.trace.external_id', body.externalId);
  put(a, 'langfuse.trace.input', text(body.input, ctx.limits));
  put(a, 'langfuse.trace.output', text(body.output, ctx.limits));
  put(a, 'langfuse.trace.metadata', body.metadata === undefined ? undefined : cleanJson(body.metadata));
  return span;
}

type ObservationType = 'span' | 'generation' | 'event';

function observationSpan(
  ctx: Ctx,
  type: ObservationType,
  id: string,
  eventAt: string,
  body: ObservationBody,
  isUpdate: boolean,
): SpanRecord {
  const langfuseTrace = body.traceId ?? id;
  const traceId = traceIdOf(langfuseTrace);
  const start = iso(body.startTime);
  const end = type === 'event' ? start : iso(body.endTime);
  const span = baseSpan(ctx, traceId, spanIdOf(id), eventAt, start, end);
  span.name = clip(body.name, 1000) ?? '';
  span.environment = clip(body.environment, 100);
  // Without a parent, a create hangs under its trace; an update leaves the parent as its create said (the SDKs send none).
  span.parent_span_id = body.parentObservationId
    ? spanIdOf(body.parentObservationId)
    : body.traceId && !isUpdate
      ? rootSpanIdOf(body.traceId)
      : null;
  if (body.level === 'ERROR') {
    span.status_code = 'error';
    span.status_message = body.statusMessage ?? null;
  }
  const a = span.attributes;
  put(a, 'langfuse.event_at', eventAt);
  put(a, 'langfuse.observation.type', type);
  put(a, 'langfuse.observation.id', id);
  put(a, 'langfuse.trace.id', langfuseTrace);
  put(a, 'langfuse.start_time', start);
  put(a, 'langfuse.end_time', end);
  put(a, 'langfuse.level', body.level);
  put(a, 'langfuse.observation.status_message', body.statusMessage);
  put(a, 'langfuse.version', body.version);
  put(a, 'langfuse.observation.model.name', body.model);
  put(a, 'langfuse.observation.input', text(body.input, ctx.limits));
  put(a, 'langfuse.observation.output', text(body.output, ctx.limits));
  put(a, 'langfuse.observation.metadata', body.metadata === undefined ? undefined : cleanJson(body.metadata));
  return span;
}

const count = (...values: Array<unknown>): number | null => {
  for (const v of values) if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 31 - 1) return v;
  return null;
};

/** usageDetails may hold OpenAI's usage object as is; its nested details are flattened as Langfuse does (input_cached_tokens…). */
function flatDetails(details: ObservationBody['usageDetails']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(details ?? {})) {
    if (typeof v === 'number') out[k] = v;
    else if (v && typeof v === 'object') {
      const prefix = k.startsWith('prompt') || k.startsWith('input') ? 'input' : 'output';
      for (const [dk, dv] of Object.entries(v)) if (typeof dv === 'number') out[`${prefix}_${dk}`] = dv;
    }
  }
  return out;
}

function providedCost(body: ObservationBody): number | null {
  const c = body.costDetails;
  if (c && typeof c.total === 'number') return c.total;
  if (c && Object.keys(c).length) return Object.values(c).reduce<number>((sum, v) => sum + (v ?? 0), 0);
  const u = body.usage;
  if (u && typeof u.totalCost === 'number') return u.totalCost;
  if (u && (typeof u.inputCost === 'number' || typeof u.outputCost === 'number')) return (u.inputCost ?? 0) + (u.outputCost ?? 0);
  return null;
}

function generationLog(ctx: Ctx, id: string, eventAt: string, body: ObservationBody, span: SpanRecord): LlmLogRecord {
  const u = body.usage ?? {};
  const d = flatDetails(body.usageDetails);
  const cached = count(d.input_cached_tokens, d.cache_read_input_tokens, d.input_cache_read);
  const prompt = count(d.input ?? d.prompt_tokens ?? d.input_tokens, u.input, u.promptTokens);
  const completion = count(d.output ?? d.completion_tokens ?? d.output_tokens, u.output, u.completionTokens);
  const total = count(d.total ?? d.total_tokens, u.total, u.totalTokens);
  const start = iso(body.startTime);
  const end = iso(body.endTime);
  const metadata: Attrs = { event_at: eventAt, observation_id: id };
  put(metadata, 'langfuse_trace_id', body.traceId);
  put(metadata, 'start_time', start);
  put(metadata, 'end_time', end);
  put(metadata, 'completion_start_time', iso(body.completionStartTime));
  put(metadata, 'model_parameters', body.modelParameters === null ? undefined : cleanJson(body.modelParameters));
  put(metadata, 'metadata', body.metadata === undefined ? undefined : cleanJson(body.metadata));
  put(metadata, 'usage_details', Object.keys(d).length ? d : undefined);
  put(metadata, 'cost_details', body.costDetails ?? undefined);
  put(metadata, 'provided_cost', providedCost(body));
  put(metadata, 'level', body.level);
  put(metadata, 'version', body.version);
  put(metadata, 'prompt_name', body.promptName);
  put(metadata, 'prompt_version', body.promptVersion);
  put(metadata, 'environment', body.environment);
  put(metadata, 'name', body.name);
  return {
    project_id: ctx.projectId,
    event_id: llmEventIdOf(id),
    timestamp: start ?? eventAt,
    received_at: ctx.receivedAt,
    user_ref: null,
    source: clip(body.name, 200),
    model: clip(body.model, 200),
    query: text(body.input, ctx.limits) ?? '',
    response: text(body.output, ctx.limits) ?? '',
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total ?? (prompt !== null && completion !== null ? prompt + completion : null),
    latency_ms: start && end ? Math.max(0, Date.parse(end) - Date.parse(start)) : null,
    metadata,
    // An update may leave out its traceId: then it does not say which trace (the merge keeps the create's).
    trace_id: body.traceId ? span.trace_id : null,
    span_id: span.span_id,
    cached_tokens: cached,
    error: body.level === 'ERROR' ? (clip(body.statusMessage, 1000) ?? 'error') : null,
    origin: 'langfuse',
    merge: true,
  };
}

/** A score, as an attribute of the span it scores (the observation, or the trace's root span). */
function scoreSpan(ctx: Ctx, eventAt: string, body: ScoreBody): SpanRecord | null {
  if (!body.traceId) return null;
  const traceId = traceIdOf(body.traceId);
  const spanId = body.observationId ? spanIdOf(body.observationId) : rootSpanIdOf(body.traceId);
  const span = baseSpan(ctx, traceId, spanId, eventAt, null, null);
  // Flagged: a score never changes the scored span's own fields or times, it only adds its attributes (mergeSpans).
  span.attributes = { 'langfuse.score_only': true, [`langfuse.score.${body.name}`]: body.value };
  if (body.comment) span.attributes[`langfuse.score.${body.name}.comment`] = body.comment;
  span.name = '';
  return span;
}

const OBSERVATION_TYPES: Record<string, ObservationType> = {
  'span-create': 'span',
  'span-update': 'span',
  'generation-create': 'generation',
  'generation-update': 'generation',
  'event-create': 'event',
};

/**
 * The batch → records, and the 207's per-event answer: a valid event is a success (201)
 * once its records are queued; an invalid one an error (400, "Invalid request data").
 * sdk-log events are in neither list, as in Langfuse.
 */
export function mapIngestionBatch(batch: unknown[], projectId: number, receivedAt: string, limits: LangfuseLimits): Mapped {
  const ctx: Ctx = { projectId, receivedAt, limits };
  const out: Mapped = { spans: [], events: [], llmLogs: [], successes: [], errors: [], droppedScores: 0 };
  for (const raw of batch) {
    const parsed = IngestionEvent.safeParse(raw);
    if (!parsed.success) {
      out.errors.push({ id: idOf(raw), status: 400, message: 'Invalid request data', error: zodMessage(parsed.error.issues) });
      continue;
    }
    const event = parsed.data;
    const eventAt = new Date(event.timestamp).toISOString();
    switch (event.type) {
      case 'sdk-log':
        continue;
      case 'trace-create':
        out.spans.push(traceSpan(ctx, event.id, eventAt, event.body));
        break;
      case 'score-create': {
        const span = scoreSpan(ctx, eventAt, event.body);
        if (span) out.spans.push(span);
        else out.droppedScores++;
        break;
      }
      default: {
        const isLegacy = event.type === 'observation-create' || event.type === 'observation-update';
        const type = isLegacy ? ((event.body as { type: string }).type.toLowerCase() as ObservationType) : OBSERVATION_TYPES[event.type];
        // Langfuse assigns an id to a legacy create without one; ours is the event's, so a retry lands on itself.
        const id = event.body.id ?? event.id;
        const span = observationSpan(ctx, type, id, eventAt, event.body, event.type.endsWith('-update'));
        out.spans.push(span);
        if (type === 'generation') out.llmLogs.push(generationLog(ctx, id, eventAt, event.body, span));
      }
    }
    out.successes.push({ id: event.id, status: 201 });
  }
  return out;
}

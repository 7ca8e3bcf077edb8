/**
 * One trace, across every kind: the span tree (OTLP, Langfuse, Sentry) with the error
 * events, logs and LLM calls that carry the same trace id, each placed on its span
 * where it names one, and all of it in time order. Tenancy: only rows of projects in the
 * scope; a trace with nothing visible is 404, like one that does not exist.
 */
import type { DataSource } from 'typeorm';
import { scopeClause, type Scope } from '../access/scope.ts';
import { badRequest, notFound } from '../errors.ts';

/** Bounds on what one answer holds; `truncated` says when a kind had more. */
export const TRACE_LIMITS = { spans: 10_000, errors: 1000, logs: 1000, llm_calls: 1000 };

export interface TraceSpan {
  span_id: string;
  parent_span_id: string | null;
  depth: number;
  /** Microsecond-exact start relative to the trace's first span, for the waterfall. */
  offset_ms: number;
  project: number;
  name: string;
  kind: string;
  service: string | null;
  environment: string | null;
  start_time: string;
  end_time: string;
  duration_ms: number;
  status_code: string;
  status_message: string | null;
  attributes: Record<string, unknown>;
  events: unknown[];
  origin: string;
}

export interface TraceError {
  id: number;
  event_id: string;
  project: number;
  span_id: string | null;
  timestamp: string;
  level: string;
  exception_type: string | null;
  message: string;
  service: string | null;
  environment: string | null;
  issue: number | null;
}

export interface TraceLog {
  id: number;
  project: number;
  span_id: string | null;
  timestamp: string;
  severity: string;
  message: string;
  source: string | null;
  environment: string | null;
}

export interface TraceLlmCall {
  id: number;
  project: number;
  span_id: string | null;
  timestamp: string;
  model: string | null;
  source: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost: number | null;
  latency_ms: number | null;
  error: string | null;
  /** The start of the prompt (prompts can be megabytes: GET /api/llm-logs/ has them whole). */
  query_excerpt: string;
}

export type TimelineItem = { type: 'span' | 'error' | 'log' | 'llm_call'; time: string; id: string; span_id: string | null };

export interface TraceView {
  trace_id: string;
  projects: number[];
  start_time: string | null;
  end_time: string | null;
  duration_ms: number | null;
  services: string[];
  counts: { spans: number; errors: number; logs: number; llm_calls: number };
  truncated: { spans: boolean; errors: boolean; logs: boolean; llm_calls: boolean };
  /** Depth-first, children by start time: the waterfall's rows. Roots are spans whose parent is not in the trace. */
  spans: TraceSpan[];
  errors: TraceError[];
  logs: TraceLog[];
  llm_calls: TraceLlmCall[];
  /** Every item above by time (spans by start). */
  timeline: TimelineItem[];
}

const EXCERPT = 200;

/** W3C / OpenTelemetry trace ids: 32 hex characters (Sentry's are the same); any case in, lowercase stored. */
export function parseTraceId(raw: string): string {
  const id = raw.trim().toLowerCase().replaceAll('-', '');
  if (!/^[0-9a-f]{32}$/.test(id))
    throw badRequest(
      'A trace id is 32 hexadecimal characters',
      [{ path: 'trace_id', message: 'expected 32 hex characters' }],
      'invalid_trace_id',
    );
  return id;
}

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

interface SpanRow {
  project_id: number;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  service: string | null;
  environment: string | null;
  start_time: Date;
  end_time: Date;
  start_us: string;
  duration_ms: number;
  status_code: string;
  status_message: string | null;
  attributes: Record<string, unknown>;
  events: unknown[];
  origin: string;
}

/** Spans in waterfall order: depth-first from the roots, children by start. Iterative (traces can be deep), cycle-proof. */
export function treeOrder<S extends { span_id: string; parent_span_id: string | null; start: number }>(
  spans: S[],
): Array<S & { depth: number }> {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map<string, S[]>();
  const roots: S[] = [];
  for (const s of spans) {
    if (s.parent_span_id && s.parent_span_id !== s.span_id && byId.has(s.parent_span_id)) {
      const list = children.get(s.parent_span_id) ?? [];
      list.push(s);
      children.set(s.parent_span_id, list);
    } else {
      roots.push(s);
    }
  }
  const byStart = (a: S, b: S) => a.start - b.start || a.span_id.localeCompare(b.span_id);
  const out: Array<S & { depth: number }> = [];
  const seen = new Set<string>();
  const walk = (from: S[]) => {
    const stack: Array<{ s: S; depth: number }> = from
      .sort(byStart)
      .reverse()
      .map((s) => ({ s, depth: 0 }));
    while (stack.length) {
      const { s, depth } = stack.pop()!;
      if (seen.has(s.span_id)) continue;
      seen.add(s.span_id);
      out.push({ ...s, depth });
      const kids = (children.get(s.span_id) ?? []).sort(byStart);
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ s: kids[i], depth: depth + 1 });
    }
  };
  walk(roots);
  // Spans on a parent cycle (bad data) are reachable from no root: list them too.
  if (out.length < spans.length) walk(spans.filter((s) => !seen.has(s.span_id)));
  return out;
}

export async function traceView(ds: DataSource, scope: Scope, traceId: string): Promise<TraceView> {
  const id = parseTraceId(traceId);
  // One condition for every kind: the trace, within the scope.
  const params: unknown[] = [id];
  const s = scopeClause(scope, params);
  const clause = `trace_id = $1${s ? ` AND ${s}` : ''}`;
  const [spanRows, eventRows, llmRows] = await Promise.all([
    ds.query(
      `SELECT project_id, span_id, parent_span_id, name, kind, service, environment, start_time, end_time,
              (extract(epoch FROM start_time) * 1000000)::bigint AS start_us, duration_ms, status_code, status_message, attributes, events, origin
         FROM spans WHERE ${clause} ORDER BY start_time, span_id LIMIT ${TRACE_LIMITS.spans + 1}`,
      params,
    ) as Promise<SpanRow[]>,
    ds.query(
      `(SELECT id, event_id, project_id, span_id, kind, "timestamp", level, exception_type, message, service, environment, issue_id
          FROM events WHERE ${clause} AND kind = 'error' ORDER BY "timestamp", id LIMIT ${TRACE_LIMITS.errors + 1})
       UNION ALL
       (SELECT id, event_id, project_id, span_id, kind, "timestamp", level, exception_type, message, service, environment, issue_id
          FROM events WHERE ${clause} AND kind = 'log' ORDER BY "timestamp", id LIMIT ${TRACE_LIMITS.logs + 1})`,
      params,
    ) as Promise<Array<Record<string, unknown> & { kind: string; timestamp: Date }>>,
    ds.query(
      `SELECT id, project_id, span_id, "timestamp", model, source, prompt_tokens, completion_tokens, total_tokens, cost, latency_ms, error,
              left(query, ${EXCERPT}) AS query_excerpt
         FROM llm_logs WHERE ${clause} ORDER BY "timestamp", id LIMIT ${TRACE_LIMITS.llm_calls + 1}`,
      params,
    ) as Promise<Array<Record<string, unknown> & { timestamp: Date }>>,
  ]);
  const errorRows = eventRows.filter((r) => r.kind === 'error');
  const logRows = eventRows.filter((r) => r.kind === 'log');
  if (!spanRows.length && !eventRows.length && !llmRows.length) throw notFound('Trace not found');

  const truncated = {
    spans: spanRows.length > TRACE_LIMITS.spans,
    errors: errorRows.length > TRACE_LIMITS.errors,
    logs: logRows.length > TRACE_LIMITS.logs,
    llm_calls: llmRows.length > TRACE_LIMITS.llm_calls,
  };
  const ordered = treeOrder(spanRows.slice(0, TRACE_LIMITS.spans).map((r) => ({ ...r, start: Number(r.start_us) })));
  const firstUs = ordered.reduce((min, r) => Math.min(min, r.start), Number.POSITIVE_INFINITY);
  const spans: TraceSpan[] = ordered.map((s) => ({
    span_id: s.span_id,
    parent_span_id: s.parent_span_id,
    depth: s.depth,
    offset_ms: (s.start - firstUs) / 1000,
    project: s.project_id,
    name: s.name,
    kind: s.kind,
    service: s.service,
    environment: s.environment,
    start_time: iso(s.start_time),
    end_time: iso(s.end_time),
    duration_ms: s.duration_ms,
    status_code: s.status_code,
    status_message: s.status_message,
    attributes: s.attributes,
    events: s.events,
    origin: s.origin,
  }));
  const errors: TraceError[] = errorRows.slice(0, TRACE_LIMITS.errors).map((e) => ({
    id: Number(e.id),
    event_id: String(e.event_id),
    project: Number(e.project_id),
    span_id: (e.span_id as string | null) ?? null,
    timestamp: iso(e.timestamp),
    level: String(e.level),
    exception_type: (e.exception_type as string | null) ?? null,
    message: String(e.message),
    service: (e.service as string | null) ?? null,
    environment: (e.environment as string | null) ?? null,
    issue: e.issue_id === null || e.issue_id === undefined ? null : Number(e.issue_id),
  }));
  const logs: TraceLog[] = logRows.slice(0, TRACE_LIMITS.logs).map((e) => ({
    id: Number(e.id),
    project: Number(e.project_id),
    span_id: (e.span_id as string | null) ?? null,
    timestamp: iso(e.timestamp),
    severity: String(e.level).toUpperCase(),
    message: String(e.message),
    source: (e.service as string | null) ?? null,
    environment: (e.environment as string | null) ?? null,
  }));
  const llm: TraceLlmCall[] = llmRows.slice(0, TRACE_LIMITS.llm_calls).map((l) => ({
    id: Number(l.id),
    project: Number(l.project_id),
    span_id: (l.span_id as string | null) ?? null,
    timestamp: iso(l.timestamp),
    model: (l.model as string | null) ?? null,
    source: (l.source as string | null) ?? null,
    prompt_tokens: (l.prompt_tokens as number | null) ?? null,
    completion_tokens: (l.completion_tokens as number | null) ?? null,
    total_tokens: (l.total_tokens as number | null) ?? null,
    cost: (l.cost as number | null) ?? null,
    latency_ms: (l.latency_ms as number | null) ?? null,
    error: (l.error as string | null) ?? null,
    query_excerpt: String(l.query_excerpt ?? ''),
  }));

  const timeline: TimelineItem[] = [
    ...spans.map((s) => ({ type: 'span' as const, time: s.start_time, id: s.span_id, span_id: s.span_id })),
    ...errors.map((e) => ({ type: 'error' as const, time: e.timestamp, id: String(e.id), span_id: e.span_id })),
    ...logs.map((e) => ({ type: 'log' as const, time: e.timestamp, id: String(e.id), span_id: e.span_id })),
    ...llm.map((e) => ({ type: 'llm_call' as const, time: e.timestamp, id: String(e.id), span_id: e.span_id })),
  ].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));

  const times = [...spans.flatMap((s) => [s.start_time, s.end_time]), ...timeline.map((t) => t.time)].sort();
  const start = times[0] ?? null;
  const end = times.at(-1) ?? null;
  const projects = new Set<number>([
    ...spans.map((s) => s.project),
    ...errors.map((e) => e.project),
    ...logs.map((e) => e.project),
    ...llm.map((e) => e.project),
  ]);
  const services = new Set(
    [...spans.map((s) => s.service), ...errors.map((e) => e.service), ...logs.map((e) => e.source)].filter((s): s is string => Boolean(s)),
  );
  return {
    trace_id: id,
    projects: [...projects].sort((a, b) => a - b),
    start_time: start,
    end_time: end,
    duration_ms: start && end ? Date.parse(end) - Date.parse(start) : null,
    services: [...services].sort(),
    counts: { spans: spans.length, errors: errors.length, logs: logs.length, llm_calls: llm.length },
    truncated,
    spans,
    errors,
    logs,
    llm_calls: llm,
    timeline,
  };
}

/**
 * Spans that are LLM calls → LLM logs, whichever instrumentation made them:
 *
 * - OpenTelemetry GenAI semantic conventions (`gen_ai.*`: operation, provider/system,
 *   request/response model, usage, input/output messages as attributes or span events,
 *   finish reasons);
 * - Langfuse's SDK (`@langfuse/tracing`): `langfuse.observation.type` generation (or
 *   embedding) with `langfuse.observation.{input,output,model.name,usage_details,metadata.*}`;
 * - Sentry's AI monitoring (its `gen_ai.*` spans, and the older `ai.*` attributes of the
 *   Vercel AI SDK and Sentry's first AI integrations).
 *
 * The input is a span record already normalized (OTLP or Sentry), so every door shares
 * one mapping. The span's duration is the latency; its trace and span ids are kept.
 */
import { createHash } from 'node:crypto';
import { cleanJson, cleanText, clip } from '../../../events/record.ts';
import type { LlmLogRecord } from '../../../logs/llmRecord.ts';
import type { SpanRecord } from '../../../spans/record.ts';

type Attrs = Record<string, unknown>;

export interface GenaiLimits {
  /** A prompt or a response longer than this is cut there (metadata.truncated says so). */
  maxTextBytes: number;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);
const first = <T>(...values: Array<T | null | undefined>): T | null => values.find((v) => v !== null && v !== undefined) ?? null;

function count(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 2 ** 31 - 1 ? n : null;
}

/** A JSON attribute (Langfuse serializes objects to strings); the value itself when it is not JSON. */
function parsed(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t);
  } catch {
    return v;
  }
}

const asObject = (v: unknown): Attrs => {
  const p = parsed(v);
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Attrs) : {};
};

/** Text as stored: strings as sent, anything else as JSON. */
function text(v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Older conventions flatten messages: gen_ai.prompt.0.role, gen_ai.prompt.0.content, … */
function flattened(a: Attrs, prefix: string): Array<Record<string, unknown>> | null {
  const re = new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.(\\d+)\\.(\\w+)$`);
  const byIndex = new Map<number, Record<string, unknown>>();
  for (const [k, v] of Object.entries(a)) {
    const m = re.exec(k);
    if (!m) continue;
    const i = Number(m[1]);
    if (!byIndex.has(i)) byIndex.set(i, {});
    byIndex.get(i)![m[2]] = v;
  }
  return byIndex.size ? [...byIndex.entries()].sort((x, y) => x[0] - y[0]).map(([, m]) => m) : null;
}

const MESSAGE_EVENTS: Record<string, string> = {
  'gen_ai.system.message': 'system',
  'gen_ai.user.message': 'user',
  'gen_ai.assistant.message': 'assistant',
  'gen_ai.tool.message': 'tool',
};

/** Prompt and completion recorded as span events (the conventions' event forms). */
function fromEvents(span: SpanRecord): { input: unknown; output: unknown } {
  const input: unknown[] = [];
  const output: unknown[] = [];
  let detailsIn: unknown = null;
  let detailsOut: unknown = null;
  for (const e of span.events) {
    const a = e.attributes;
    if (a['gen_ai.input.messages'] !== undefined) detailsIn = parsed(a['gen_ai.input.messages']);
    if (a['gen_ai.output.messages'] !== undefined) detailsOut = parsed(a['gen_ai.output.messages']);
    if (e.name === 'gen_ai.content.prompt' && a['gen_ai.prompt'] !== undefined) input.push(parsed(a['gen_ai.prompt']));
    if (e.name === 'gen_ai.content.completion' && a['gen_ai.completion'] !== undefined) output.push(parsed(a['gen_ai.completion']));
    const role = MESSAGE_EVENTS[e.name];
    if (role) input.push({ role, content: parsed(first(a.content, a['gen_ai.event.content'], a.message)) });
    if (e.name === 'gen_ai.choice') output.push(parsed(first(a.message, a['gen_ai.event.content'], a.content)));
  }
  const one = (xs: unknown[]) => (xs.length === 0 ? null : xs.length === 1 ? xs[0] : xs);
  return { input: detailsIn ?? one(input), output: detailsOut ?? one(output) };
}

// Agents and tool executions are spans of an LLM application, not calls to a model.
const NOT_A_CALL = new Set(['execute_tool', 'invoke_agent', 'create_agent']);
const LANGFUSE_CALLS = new Set(['generation', 'embedding']);

/** Whether the span is an LLM call, and by which convention; null when it is not one. */
function conventionOf(a: Attrs): 'langfuse' | 'genai' | 'ai' | null {
  const lf = str(a['langfuse.observation.type']);
  if (lf) return LANGFUSE_CALLS.has(lf) ? 'langfuse' : null;
  const op = str(a['gen_ai.operation.name']);
  if (op && NOT_A_CALL.has(op)) return null;
  if (op || str(a['gen_ai.request.model']) || str(a['gen_ai.response.model']) || count(a['gen_ai.usage.input_tokens']) !== null)
    return 'genai';
  if (
    str(a['ai.model.id']) ||
    str(a['ai.model_id']) ||
    count(a['ai.usage.promptTokens']) !== null ||
    count(a['ai.prompt_tokens.used']) !== null
  )
    return 'ai';
  return null;
}

function cut(s: string | null, maxBytes: number): { text: string; truncated: boolean } {
  if (s === null) return { text: '', truncated: false };
  const clean = cleanText(s);
  if (Buffer.byteLength(clean) <= maxBytes) return { text: clean, truncated: false };
  // Cut on a character boundary: decode the first maxBytes bytes, dropping a split character.
  const head = Buffer.from(clean)
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { text: head, truncated: true };
}

const LANGFUSE_METADATA = 'langfuse.observation.metadata.';

export function genaiToLlmLog(span: SpanRecord, receivedAt: string, limits: GenaiLimits): LlmLogRecord | null {
  const a = span.attributes;
  const convention = conventionOf(a);
  if (!convention) return null;
  const usage = asObject(a['langfuse.observation.usage_details']);
  const events = fromEvents(span);

  const input = first(
    parsed(a['langfuse.observation.input']),
    parsed(a['gen_ai.input.messages']),
    parsed(a['gen_ai.request.messages']), // Sentry
    parsed(a['gen_ai.prompt']),
    flattened(a, 'gen_ai.prompt'),
    events.input,
    parsed(a['ai.prompt.messages']),
    parsed(a['ai.prompt']),
    parsed(a['ai.input_messages']),
  );
  const output = first(
    parsed(a['langfuse.observation.output']),
    parsed(a['gen_ai.output.messages']),
    a['gen_ai.response.text'], // Sentry
    parsed(a['gen_ai.completion']),
    flattened(a, 'gen_ai.completion'),
    events.output,
    a['ai.response.text'],
    parsed(a['ai.responses']),
  );

  // Langfuse counts cached input apart from `input` (its total is the sum); OpenTelemetry's
  // input_tokens include them. prompt_tokens follows OpenTelemetry: cached ones included.
  const lfCached = first(count(usage.input_cached_tokens), count(usage.cache_read_input_tokens), count(usage.input_cache_read));
  const lfInput = first(count(usage.input), count(usage.prompt_tokens), count(usage.promptTokens));
  const cached = first(count(a['gen_ai.usage.cache_read.input_tokens']), lfCached, count(a['ai.usage.cachedInputTokens']));
  const prompt = first(
    count(a['gen_ai.usage.input_tokens']),
    count(a['gen_ai.usage.prompt_tokens']),
    lfInput !== null ? lfInput + (lfCached ?? 0) : null,
    count(a['ai.usage.promptTokens']),
    count(a['ai.usage.inputTokens']),
    count(a['ai.prompt_tokens.used']),
  );
  const completion = first(
    count(a['gen_ai.usage.output_tokens']),
    count(a['gen_ai.usage.completion_tokens']),
    count(usage.output),
    count(usage.completion_tokens),
    count(usage.completionTokens),
    count(a['ai.usage.completionTokens']),
    count(a['ai.usage.outputTokens']),
    count(a['ai.completion_tokens.used']),
  );
  const summed = prompt !== null && completion !== null && prompt + completion <= 2 ** 31 - 1 ? prompt + completion : null;
  const total = first(
    count(a['gen_ai.usage.total_tokens']),
    count(usage.total),
    count(usage.total_tokens),
    count(a['ai.total_tokens.used']),
    summed,
  );

  const level = str(a['langfuse.observation.level']);
  const error =
    span.status_code === 'error'
      ? (span.status_message ?? str(a['error.type']) ?? 'error')
      : level === 'ERROR'
        ? (str(a['langfuse.observation.status_message']) ?? 'error')
        : str(a['error.type']);

  const q = cut(text(input), limits.maxTextBytes);
  const r = cut(text(output), limits.maxTextBytes);
  const metadata: Attrs = { span_name: span.name, convention };
  const put = (k: string, v: unknown) => {
    if (v !== null && v !== undefined && v !== '') metadata[k] = v;
  };
  put('operation', str(a['gen_ai.operation.name']) ?? str(a['langfuse.observation.type']) ?? str(a['ai.operationId']));
  put('provider', str(a['gen_ai.provider.name']) ?? str(a['gen_ai.system']) ?? str(a['ai.model.provider']));
  put('request_model', str(a['gen_ai.request.model']));
  put('response_model', str(a['gen_ai.response.model']));
  put('response_id', str(a['gen_ai.response.id']));
  put('finish_reasons', parsed(a['gen_ai.response.finish_reasons']) ?? parsed(a['ai.response.finishReason']));
  put('temperature', a['gen_ai.request.temperature']);
  put('max_tokens', a['gen_ai.request.max_tokens']);
  put('model_parameters', asObject(a['langfuse.observation.model.parameters']));
  put('usage_details', Object.keys(usage).length ? usage : null);
  put('cost_details', parsed(a['langfuse.observation.cost_details']));
  put('session_id', str(a['langfuse.session.id']) ?? str(a['gen_ai.conversation.id']) ?? str(a['session.id']));
  put('trace_name', str(a['langfuse.trace.name']));
  put('prompt_name', str(a['langfuse.observation.prompt.name']));
  const custom: Attrs = {};
  for (const [k, v] of Object.entries(a)) if (k.startsWith(LANGFUSE_METADATA)) custom[k.slice(LANGFUSE_METADATA.length)] = parsed(v);
  if (a['langfuse.observation.metadata'] !== undefined) Object.assign(custom, asObject(a['langfuse.observation.metadata']));
  put('metadata', Object.keys(custom).length ? custom : null);
  if (q.truncated || r.truncated) metadata.truncated = { query: q.truncated, response: r.truncated };
  if (metadata.model_parameters && Object.keys(metadata.model_parameters as Attrs).length === 0) delete metadata.model_parameters;

  return {
    project_id: span.project_id,
    // One per span: an exporter's retry stores the call once.
    event_id: createHash('sha256').update(`${span.trace_id}:${span.span_id}:llm`).digest('hex').slice(0, 32),
    timestamp: span.start_time,
    received_at: receivedAt,
    user_ref: clip(str(a['langfuse.user.id']) ?? str(a['user.id']) ?? str(a['enduser.id']), 200),
    source: clip(str(metadata.provider) ?? span.service, 200),
    model: clip(
      str(a['langfuse.observation.model.name']) ??
        str(a['gen_ai.response.model']) ??
        str(a['gen_ai.request.model']) ??
        str(a['ai.model.id']) ??
        str(a['ai.model_id']),
      200,
    ),
    query: q.text,
    response: r.text,
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    cached_tokens: cached,
    latency_ms: span.duration_ms,
    metadata: cleanJson(metadata) as Attrs,
    trace_id: span.trace_id,
    span_id: span.span_id,
    error: error ? clip(error, 1000) : null,
    origin: convention === 'langfuse' ? 'langfuse' : span.origin,
  };
}

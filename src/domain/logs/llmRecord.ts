import { z } from 'zod';
import { cleanJson, cleanText, clip, EventIdSchema, newEventId, SpanIdSchema, TimestampSchema, TraceIdSchema } from '../events/record.ts';

/**
 * An LLM call as a `store-llm-logs` job carries it. Field names are the llm_logs
 * columns. Everything here is already valid for the database (see EventRecordSchema).
 */
export const LlmLogRecordSchema = z.object({
  project_id: z.number().int().positive(),
  event_id: z.string().min(1).max(100),
  timestamp: z.iso.datetime(),
  received_at: z.iso.datetime(),
  user_ref: z.string().max(200).nullable(),
  source: z.string().max(200).nullable(),
  model: z.string().max(200).nullable(),
  query: z.string(),
  response: z.string(),
  prompt_tokens: z.number().int().min(0).max(2 ** 31 - 1).nullable(),
  completion_tokens: z.number().int().min(0).max(2 ** 31 - 1).nullable(),
  total_tokens: z.number().int().min(0).max(2 ** 31 - 1).nullable(),
  latency_ms: z.number().min(0).nullable(),
  metadata: z.record(z.string(), z.unknown()),
  /** The trace and span of the call (OpenTelemetry GenAI spans, Langfuse, Sentry AI spans). */
  trace_id: TraceIdSchema.nullish(),
  span_id: SpanIdSchema.nullish(),
  /** Prompt tokens read from a provider's cache (priced lower; a part of prompt_tokens). */
  cached_tokens: z.number().int().min(0).max(2 ** 31 - 1).nullish(),
  /** What went wrong, when the call failed (the span's error status or error.type). */
  error: z.string().max(1000).nullish(),
  /** Which door it came in by: dataidea (seed 3), otlp, langfuse, sentry. */
  origin: z.string().max(16).nullish(),
  /** US dollars: set by the worker from the price table when it stores the call, never by the API. */
  cost: z.number().min(0).nullish(),
});
export type LlmLogRecord = z.infer<typeof LlmLogRecordSchema>;

/** Seed 3 (DataIdea) `POST /api/llm-log/`. */
export const DataideaLlmLogSchema = z
  .object({
    api_key: z.string().max(200).optional().meta({ description: 'The project API key (or send Authorization: Bearer <api_key>)' }),
    event_id: EventIdSchema.optional(),
    user_id: z.union([z.string(), z.number()]).transform((v) => String(v)).optional().nullable(),
    source: z.string().optional().nullable(),
    query: z.string(),
    response: z.string().optional().nullable(),
    metadata: z.record(z.string(), z.unknown()).optional().nullable(),
    timestamp: TimestampSchema.optional().nullable(),
  })
  .catchall(z.unknown())
  .meta({
    id: 'DataideaLlmLog',
    description:
      'Seed 3 LLM call log. model, prompt/completion/total tokens and latency_ms are read from metadata when present ' +
      '(model or model_version; tokens, prompt_tokens, completion_tokens, total_tokens, or an OpenAI-style usage object; latency_ms).',
    example: {
      api_key: 'flk_…',
      user_id: 'user123',
      source: 'gpt-4',
      query: 'What is the capital of France?',
      response: 'The capital of France is Paris.',
      metadata: { tokens: 15, model_version: 'gpt-4-0613', session_id: 'abc123', latency_ms: 250 },
    },
  });
export type DataideaLlmLog = z.output<typeof DataideaLlmLogSchema>;

/** Metadata is free-form: a value that is not a sane count is ignored, never an error. */
function count(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 2 ** 31 - 1 ? n : null;
}

function millis(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? clip(v.trim(), 200) : null);

export interface LlmUsage {
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  latency_ms: number | null;
}

/** Pulls model, token counts and latency out of seed 3's metadata (and OpenAI-style `usage`). */
export function usageFrom(metadata: Record<string, unknown>): LlmUsage {
  const usage = metadata.usage && typeof metadata.usage === 'object' ? (metadata.usage as Record<string, unknown>) : {};
  const prompt = count(metadata.prompt_tokens) ?? count(usage.prompt_tokens);
  const completion = count(metadata.completion_tokens) ?? count(usage.completion_tokens);
  const summed = prompt !== null && completion !== null && prompt + completion <= 2 ** 31 - 1 ? prompt + completion : null;
  return {
    model: text(metadata.model) ?? text(metadata.model_version),
    prompt_tokens: prompt,
    completion_tokens: completion,
    // Seed 3's own example sends only `tokens`: the total.
    total_tokens: count(metadata.total_tokens) ?? count(usage.total_tokens) ?? count(metadata.tokens) ?? summed,
    latency_ms: millis(metadata.latency_ms),
  };
}

const KNOWN = new Set(Object.keys(DataideaLlmLogSchema.shape));

export function dataideaLlmToRecord(e: DataideaLlmLog, projectId: number, receivedAt: string): LlmLogRecord {
  const metadata = cleanJson({ ...(e.metadata ?? {}) }) as Record<string, unknown>;
  // Unknown top-level fields are kept in metadata, never dropped; the key never is stored.
  for (const [k, v] of Object.entries(e)) if (!KNOWN.has(k) && !(k in metadata)) metadata[k] = cleanJson(v);
  return {
    project_id: projectId,
    event_id: e.event_id ?? newEventId(),
    timestamp: e.timestamp ?? receivedAt,
    received_at: receivedAt,
    user_ref: clip(e.user_id, 200),
    source: clip(e.source, 200),
    query: cleanText(e.query),
    response: cleanText(e.response ?? ''),
    metadata,
    origin: 'dataidea',
    ...usageFrom(metadata),
  };
}

import { z } from 'zod';
import { MarkSchema } from '../scrubbing/rules.ts';
import { SpanIdSchema, TraceIdSchema } from '../events/record.ts';

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
  prompt_tokens: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullable(),
  completion_tokens: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullable(),
  total_tokens: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullable(),
  latency_ms: z.number().min(0).nullable(),
  metadata: z.record(z.string(), z.unknown()),
  /** The trace and span of the call (OpenTelemetry GenAI spans, Langfuse, Sentry AI spans). */
  trace_id: TraceIdSchema.nullish(),
  span_id: SpanIdSchema.nullish(),
  /** Prompt tokens read from a provider's cache (priced lower; a part of prompt_tokens). */
  cached_tokens: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullish(),
  /** What went wrong, when the call failed (the span's error status or error.type). */
  error: z.string().max(1000).nullish(),
  /** Which door it came in by: dataidea (DataIdea), otlp, langfuse, sentry. */
  origin: z.string().max(16).nullish(),
  /** What scrubbing took out (src/domain/scrubbing), set by the worker: kept in a job re-run after a failure. */
  scrubbed: z.array(MarkSchema).nullish(),
  /** US dollars: set by the worker from the price table when it stores the call, never by the API. */
  cost: z.number().min(0).nullish(),
  /**
   * Not a column: the record is one event about a call that others complete (Langfuse's
   * generation-create, then generation-update with output and usage, in any order, in
   * separate batches). Stored by merging into the row with the same event_id instead of
   * inserting-or-nothing (llmStore.ts mergeLlmLogs); newer events (metadata.event_at) win.
   */
  merge: z.boolean().optional(),
});
export type LlmLogRecord = z.infer<typeof LlmLogRecordSchema>;

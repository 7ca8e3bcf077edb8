import { z } from 'zod';

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
});
export type LlmLogRecord = z.infer<typeof LlmLogRecordSchema>;

import { z } from 'zod';
import { payloadTooLarge } from '../../errors.ts';
import {
  cleanText,
  clip,
  EventIdSchema,
  extraOf,
  LevelSchema,
  logRecord,
  newEventId,
  TimestampSchema,
  type EventRecord,
} from '../../events/record.ts';
import type { LlmLogRecord } from '../../logs/llmRecord.ts';

/**
 * DataIdea's loggers (DataIdea): `POST /api/event-log/` (application logs → events of kind
 * 'log', origin 'dataidea') and `POST /api/llm-log/` (LLM calls → llm_logs). The key may
 * come in each body as `api_key`. Field names are the seed's own, kept on purpose.
 */

/** DataIdea sends user_id as whatever its app uses: a string or a number. */
const UserIdSchema = z.union([z.string(), z.number()]).transform((v) => String(v));
const JsonObject = z.record(z.string(), z.unknown());

/** DataIdea (DataIdea) `POST /api/event-log/`. The key may be in the body or in Authorization. */
export const DataideaEventLogSchema = z
  .object({
    api_key: z.string().max(200).optional().meta({ description: 'The project API key (or send Authorization: Bearer <api_key>)' }),
    event_id: EventIdSchema.optional(),
    user_id: UserIdSchema.optional().nullable(),
    message: z.string(),
    level: LevelSchema.optional().nullable(),
    metadata: JsonObject.optional().nullable(),
    timestamp: TimestampSchema.optional().nullable(),
  })
  .catchall(z.unknown())
  .meta({
    id: 'DataideaEventLog',
    description: 'DataIdea event log. Send one object or an array of them.',
    example: {
      api_key: 'flk_…',
      user_id: 'user123',
      message: 'User successfully logged in',
      level: 'info',
      metadata: { ip_address: '192.168.1.1', browser: 'Chrome', session_id: 'abc123' },
    },
  });
export type DataideaEventLog = z.output<typeof DataideaEventLogSchema>;

const DATAIDEA_KNOWN = new Set(Object.keys(DataideaEventLogSchema.shape));

export function dataideaToRecord(e: DataideaEventLog, projectId: number, receivedAt: string): EventRecord {
  return logRecord(projectId, receivedAt, {
    event_id: e.event_id ?? newEventId(),
    timestamp: e.timestamp ?? receivedAt,
    level: e.level ?? 'info',
    message: clip(e.message, Number.MAX_SAFE_INTEGER) ?? '',
    user_ref: clip(e.user_id, 200),
    extra: extraOf(e, DATAIDEA_KNOWN, e.metadata ?? {}),
    origin: 'dataidea',
  });
}

/** DataIdea (DataIdea) `POST /api/llm-log/`. */
export const DataideaLlmLogSchema = z
  .object({
    api_key: z.string().max(200).optional().meta({ description: 'The project API key (or send Authorization: Bearer <api_key>)' }),
    event_id: EventIdSchema.optional(),
    user_id: z
      .union([z.string(), z.number()])
      .transform((v) => String(v))
      .optional()
      .nullable(),
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
      'DataIdea LLM call log. model, prompt/completion/total tokens and latency_ms are read from metadata when present ' +
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

/** Pulls model, token counts and latency out of DataIdea's metadata (and OpenAI-style `usage`). */
export function usageFrom(metadata: Record<string, unknown>): LlmUsage {
  const usage = metadata.usage && typeof metadata.usage === 'object' ? (metadata.usage as Record<string, unknown>) : {};
  const prompt = count(metadata.prompt_tokens) ?? count(usage.prompt_tokens);
  const completion = count(metadata.completion_tokens) ?? count(usage.completion_tokens);
  const summed = prompt !== null && completion !== null && prompt + completion <= 2 ** 31 - 1 ? prompt + completion : null;
  return {
    model: text(metadata.model) ?? text(metadata.model_version),
    prompt_tokens: prompt,
    completion_tokens: completion,
    // DataIdea's own example sends only `tokens`: the total.
    total_tokens: count(metadata.total_tokens) ?? count(usage.total_tokens) ?? count(metadata.tokens) ?? summed,
    latency_ms: millis(metadata.latency_ms),
  };
}

const LLM_KNOWN = new Set(Object.keys(DataideaLlmLogSchema.shape));

export function dataideaLlmToRecord(e: DataideaLlmLog, projectId: number, receivedAt: string): LlmLogRecord {
  const metadata = extraOf(e, LLM_KNOWN, e.metadata ?? {});
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

/** Prompts and responses may each be up to `maxBytes` (LLM_LOG_MAX_TEXT_BYTES); 413 naming the field otherwise. */
export function checkLlmTextSizes(item: DataideaLlmLog, index: number, batch: boolean, maxBytes: number): void {
  for (const field of ['query', 'response'] as const) {
    const size = Buffer.byteLength(item[field] ?? '');
    if (size > maxBytes)
      throw payloadTooLarge(`${field} is ${size} bytes; the limit is ${maxBytes}`, {
        path: batch ? `${index}.${field}` : field,
        limit_bytes: maxBytes,
      });
  }
}

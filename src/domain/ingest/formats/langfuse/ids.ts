import { createHash } from 'node:crypto';

/**
 * Langfuse's ids are the client's strings (SDK v3 sends UUIDs; anything up to 800
 * characters goes), ours are W3C's: 32 hex for a trace, 16 for a span. The mapping is
 * deterministic, so an update lands on its create, a retry on itself, and the trace view
 * finds a trace by the id the client knows (GET /api/traces/{langfuse trace id}/). The
 * original ids are kept in the attributes (langfuse.trace.id, langfuse.observation.id).
 */
const HEX32 = /^[0-9a-f]{32}$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** 32 hex as is, a UUID without its dashes (the same 128 bits), anything else the head of its SHA-256. */
export function traceIdOf(langfuseId: string): string {
  if (HEX32.test(langfuseId)) return langfuseId.toLowerCase();
  if (UUID.test(langfuseId)) return langfuseId.replaceAll('-', '').toLowerCase();
  return sha256(`trace:${langfuseId}`).slice(0, 32);
}

/** An observation's span: 64 bits of its id's hash (a UUID has twice as many). */
export const spanIdOf = (observationId: string): string => sha256(`observation:${observationId}`).slice(0, 16);

/** The span that stands for the trace itself (Langfuse's trace has a name, input, output, user…). */
export const rootSpanIdOf = (traceId: string): string => sha256(`trace:${traceId}`).slice(0, 16);

/** The LLM log of a generation: `lf:` + its id, or + the id's hash when that would pass 100 characters. */
export const llmEventIdOf = (observationId: string): string =>
  observationId.length <= 97 ? `lf:${observationId}` : `lf:${sha256(observationId)}`;

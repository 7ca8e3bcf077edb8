import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EVENT_KINDS, type EventKind } from '../../entities/values.ts';
import { MarkSchema } from '../scrubbing/rules.ts';
import { LEVEL_NAMES, LEVELS, normalizeLevel } from '../levels.ts';

export { EVENT_KINDS, type EventKind };

export const TraceIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');
export const SpanIdSchema = z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex characters');

/**
 * What every ingest path turns its payload into, and what an `events` job carries.
 * Field names are the table's column names so the worker inserts without mapping.
 * Everything here is already valid for the database: an accepted event must never
 * fail its insert (that would poison a whole group-committed batch).
 */
export const EventRecordSchema = z.object({
  project_id: z.number().int().positive(),
  event_id: z.string().min(1).max(100),
  kind: z.enum(EVENT_KINDS),
  event_type: z.string().max(64).nullable(),
  timestamp: z.iso.datetime(),
  received_at: z.iso.datetime(),
  level: z.enum(LEVELS),
  message: z.string(),
  exception_type: z.string().max(255).nullable(),
  stacktrace: z.string().nullable(),
  environment: z.string().max(100).nullable(),
  service: z.string().max(200).nullable(),
  user_ref: z.string().max(200).nullable(),
  tags: z.record(z.string(), z.unknown()),
  extra: z.record(z.string(), z.unknown()),
  origin: z.string().max(16),
  /** The trace (W3C / OpenTelemetry: 32 lowercase hex) and span (16 hex) this happened in, when the client said. */
  trace_id: TraceIdSchema.nullish(),
  span_id: SpanIdSchema.nullish(),
  /** The client's release (Sentry `release`): releases, regressions, crash-free rates (src/domain/releases). */
  release: z.string().max(250).nullish(),
  /**
   * The structured event (src/domain/events/structured.ts): exception chain with
   * mechanism, frames with context, breadcrumbs, request, user, contexts, SDK. Checked
   * and bounded by the normalizer that made it; stored as jsonb.
   */
  data: z.record(z.string(), z.unknown()).nullish(),
  /** What scrubbing took out (src/domain/scrubbing), set by the worker: kept in a job re-run after a failure. */
  scrubbed: z.array(MarkSchema).nullish(),
  /** Hints for grouping into issues (src/domain/issues): a client fingerprint, structured frames. */
  grouping: z
    .object({
      fingerprint: z.array(z.string()).optional(),
      frames: z
        .array(
          z.object({
            module: z.string().nullish(),
            filename: z.string().nullish(),
            function: z.string().nullish(),
            in_app: z.boolean().nullish(),
          }),
        )
        .optional(),
    })
    .optional(),
});
export type EventRecord = z.infer<typeof EventRecordSchema>;

/** Server-assigned ids look like Sentry's: 32 lowercase hex characters. */
export const newEventId = (): string => randomUUID().replaceAll('-', '');

export const EventIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const LevelSchema = z.string().transform((v, ctx) => {
  const level = normalizeLevel(v);
  if (!level) {
    ctx.addIssue({ code: 'custom', message: `unknown level "${v}"; one of ${LEVEL_NAMES.join(', ')} (any case)` });
    return z.NEVER;
  }
  return level;
});

const MIN_TS = Date.UTC(1970, 0, 1);
const MAX_TS = Date.UTC(9999, 11, 31);

/** Epoch seconds (float), epoch milliseconds, or an ISO 8601 string → ISO string. */
export const TimestampSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let ms: number;
  if (typeof v === 'number' || /^\d+(\.\d+)?$/.test(v.trim())) {
    const n = Number(v);
    // Seconds are what the seeds send; 1e11 s is the year 5138, so larger values are milliseconds.
    ms = n > 1e11 ? n : n * 1000;
  } else {
    ms = Date.parse(v);
  }
  if (!Number.isFinite(ms) || ms < MIN_TS || ms > MAX_TS) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch seconds or an ISO 8601 date between 1970 and 9999' });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});

/**
 * PostgreSQL refuses NUL in text and jsonb, and lone UTF-16 surrogates in jsonb.
 * Replace both rather than fail a batch in the worker.
 */
export function cleanText(s: string): string {
  const wf = s.isWellFormed() ? s : s.toWellFormed();
  return wf.includes('\u0000') ? wf.replaceAll('\u0000', '\uFFFD') : wf;
}

export function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[cleanText(k)] = cleanJson(v);
    return out;
  }
  return value;
}

export function clip(s: string | null | undefined, max: number): string | null {
  if (s === null || s === undefined) return null;
  const c = cleanText(s);
  return c.length > max ? c.slice(0, max) : c;
}

/**
 * Unknown top-level fields are kept in `extra` (or a log's metadata), never silently
 * dropped; `known` fields (the credential among them) are not copied.
 */
export function extraOf(
  fields: Record<string, unknown>,
  known: ReadonlySet<string>,
  base: Record<string, unknown>,
): Record<string, unknown> {
  const extra: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(fields)) if (!known.has(k) && !(k in extra)) extra[k] = v;
  return cleanJson(extra) as Record<string, unknown>;
}

/** A record of kind 'log' with every field not given at its default. */
export function logRecord(
  projectId: number,
  receivedAt: string,
  fields: Partial<EventRecord> & Pick<EventRecord, 'message' | 'origin' | 'extra'>,
): EventRecord {
  return {
    project_id: projectId,
    event_id: newEventId(),
    kind: 'log',
    event_type: null,
    timestamp: receivedAt,
    received_at: receivedAt,
    level: 'info',
    exception_type: null,
    stacktrace: null,
    environment: null,
    service: null,
    user_ref: null,
    tags: {},
    ...fields,
  };
}

import { z } from 'zod';
import { MarkSchema } from '../scrubbing/rules.ts';
import { SpanIdSchema, TraceIdSchema } from '../events/record.ts';

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export const SPAN_STATUSES = ['unset', 'ok', 'error'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];
export type SpanStatus = (typeof SPAN_STATUSES)[number];

const Json = z.record(z.string(), z.unknown());

/**
 * One span as a `store-spans` job carries it, from OTLP traces or Sentry transactions and
 * span items; field names are the `spans` columns. Already valid for the database (see
 * EventRecordSchema): an accepted span must never fail its insert. Times are ISO 8601
 * with microseconds; `duration_ms` keeps what is finer.
 */
export const SpanRecordSchema = z.object({
  project_id: z.number().int().positive(),
  trace_id: TraceIdSchema,
  span_id: SpanIdSchema,
  parent_span_id: SpanIdSchema.nullable(),
  name: z.string().max(1000),
  kind: z.enum(SPAN_KINDS),
  start_time: z.iso.datetime(),
  end_time: z.iso.datetime(),
  duration_ms: z.number().min(0),
  status_code: z.enum(SPAN_STATUSES),
  status_message: z.string().nullable(),
  service: z.string().max(200).nullable(),
  environment: z.string().max(100).nullable(),
  attributes: Json,
  resource: Json,
  /** The instrumentation library that made it (OTLP scope; Sentry: the span's origin). */
  scope: z.object({ name: z.string().nullable(), version: z.string().nullable() }).nullable(),
  events: z.array(z.object({ name: z.string(), time: z.iso.datetime(), attributes: Json })),
  links: z.array(z.object({ trace_id: TraceIdSchema, span_id: SpanIdSchema, attributes: Json })),
  origin: z.string().max(16),
  received_at: z.iso.datetime(),
  /**
   * Not a column: one event about a span others complete (Langfuse's span-create, then
   * span-update with its end). Merged into the stored span (store.ts mergeSpans); newer
   * events (attributes['langfuse.event_at']) win.
   */
  merge: z.boolean().optional(),
  /** What scrubbing took out (src/domain/scrubbing), set by the worker: kept in a job re-run after a failure. */
  scrubbed: z.array(MarkSchema).nullish(),
});
export type SpanRecord = z.infer<typeof SpanRecordSchema>;

import { z } from 'zod';
import {
  cleanJson,
  cleanText,
  clip,
  EventIdSchema,
  extraOf,
  LevelSchema,
  newEventId,
  TimestampSchema,
  type EventRecord,
} from '../../events/record.ts';

/**
 * Panties (Panties) event body, as its Python/JS/PowerShell clients send it to
 * POST /api/events/. Unknown top-level fields are kept in `extra`, not dropped.
 */
export const PantiesEventSchema = z
  .object({
    event_id: EventIdSchema.optional(),
    event_type: z.string().optional().nullable(),
    exception_type: z.string().optional().nullable(),
    message: z.string().optional().nullable(),
    stacktrace: z
      .union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())])
      .optional()
      .nullable(),
    level: LevelSchema.optional().nullable(),
    environment: z.string().optional().nullable(),
    service_name: z.string().optional().nullable(),
    timestamp: TimestampSchema.optional().nullable(),
    tags: z.record(z.string(), z.unknown()).optional().nullable(),
    extra: z.record(z.string(), z.unknown()).optional().nullable(),
  })
  .catchall(z.unknown())
  .refine((e) => Boolean(e.message || e.exception_type || e.stacktrace), {
    message: 'an event needs at least one of message, exception_type or stacktrace',
  })
  .meta({
    id: 'PantiesEvent',
    description: 'Panties (Panties) error event. Send one object or an array of them.',
    example: {
      event_id: 'unique-event-id',
      event_type: 'exception',
      exception_type: 'ValueError',
      message: 'Something went wrong',
      stacktrace: 'Full stack trace...',
      level: 'error',
      environment: 'production',
      service_name: 'my-app',
      timestamp: 1234567890,
      tags: { severity: 'high' },
      extra: { user_id: '123' },
    },
  });

export type PantiesEvent = z.output<typeof PantiesEventSchema>;

const KNOWN = new Set(Object.keys(PantiesEventSchema.shape));

function stacktraceText(st: PantiesEvent['stacktrace']): string | null {
  if (st === null || st === undefined) return null;
  if (typeof st === 'string') return cleanText(st);
  if (Array.isArray(st)) return cleanText(st.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  return cleanText(JSON.stringify(st, null, 2));
}

export function pantiesToRecord(e: PantiesEvent, projectId: number, receivedAt: string): EventRecord {
  return {
    project_id: projectId,
    event_id: e.event_id ?? newEventId(),
    kind: 'error',
    event_type: clip(e.event_type ?? (e.exception_type ? 'exception' : 'message'), 64),
    timestamp: e.timestamp ?? receivedAt,
    received_at: receivedAt,
    level: e.level ?? 'error',
    message: clip(e.message, Number.MAX_SAFE_INTEGER) ?? '',
    exception_type: clip(e.exception_type, 255),
    stacktrace: stacktraceText(e.stacktrace),
    environment: clip(e.environment, 100),
    service: clip(e.service_name, 200),
    user_ref: null,
    tags: cleanJson(e.tags ?? {}) as Record<string, unknown>,
    extra: extraOf(e, KNOWN, e.extra ?? {}),
    origin: 'panties',
  };
}

import { z } from 'zod';
import { cleanJson, clip, EventIdSchema, LevelSchema, newEventId, TimestampSchema, type EventRecord } from '../events/record.ts';

/**
 * The log bodies seeds 2, 3 and 5 post, and how each becomes an EventRecord of kind
 * 'log'. Field names are the seeds' own, kept on purpose: their clients send them.
 */

/** Seed 3 sends user_id as whatever its app uses: a string or a number. */
const UserIdSchema = z.union([z.string(), z.number()]).transform((v) => String(v));
const JsonObject = z.record(z.string(), z.unknown());

/** Seed 3 (DataIdea) `POST /api/event-log/`. The key may be in the body or in Authorization. */
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
    description: 'Seed 3 event log. Send one object or an array of them.',
    example: {
      api_key: 'flk_…',
      user_id: 'user123',
      message: 'User successfully logged in',
      level: 'info',
      metadata: { ip_address: '192.168.1.1', browser: 'Chrome', session_id: 'abc123' },
    },
  });
export type DataideaEventLog = z.output<typeof DataideaEventLogSchema>;

/** Seed 2 (logs dashboard) and seed 5 (central de erros) `POST /api/logs/`, with a user JWT. */
export const UserLogSchema = z
  .object({
    event_id: EventIdSchema.optional(),
    message: z.string(),
    severity: LevelSchema.optional().nullable().meta({ description: 'DEBUG, INFO, WARNING, ERROR or CRITICAL (any case; aliases such as warn, fatal)' }),
    source: z.string().optional().nullable(),
    timestamp: TimestampSchema.optional().nullable(),
    environment: z.string().optional().nullable(),
    project: z.number().int().positive().max(2 ** 31 - 1).optional().nullable().meta({ description: 'Project id; default: your personal project' }),
  })
  .catchall(z.unknown())
  .meta({
    id: 'UserLog',
    description: 'Seed 2/5 log. Send one object or an array of them.',
    example: { message: 'User login successful', severity: 'INFO', source: 'auth_service', timestamp: '2024-01-01T12:00:00Z', environment: 'production' },
  });
export type UserLog = z.output<typeof UserLogSchema>;

/** Unknown top-level fields are kept in `extra` (as for seed 1), never silently dropped; the key never is stored. */
function extraOf(fields: Record<string, unknown>, known: ReadonlySet<string>, base: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(fields)) if (!known.has(k) && !(k in extra)) extra[k] = v;
  return cleanJson(extra) as Record<string, unknown>;
}

const DATAIDEA_KNOWN = new Set(Object.keys(DataideaEventLogSchema.shape));
const USER_LOG_KNOWN = new Set(Object.keys(UserLogSchema.shape));

function logRecord(projectId: number, receivedAt: string, fields: Partial<EventRecord> & Pick<EventRecord, 'message' | 'origin' | 'extra'>): EventRecord {
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

export function userLogToRecord(e: UserLog, projectId: number, receivedAt: string): EventRecord {
  return logRecord(projectId, receivedAt, {
    event_id: e.event_id ?? newEventId(),
    timestamp: e.timestamp ?? receivedAt,
    level: e.severity ?? 'info',
    message: clip(e.message, Number.MAX_SAFE_INTEGER) ?? '',
    service: clip(e.source, 200),
    environment: clip(e.environment, 100),
    extra: extraOf(e, USER_LOG_KNOWN, {}),
    origin: 'logs',
  });
}

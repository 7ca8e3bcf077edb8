import { z } from 'zod';
import {
  clip,
  EventIdSchema,
  extraOf,
  LevelSchema,
  logRecord,
  newEventId,
  TimestampSchema,
  type EventRecord,
} from '../../events/record.ts';

/**
 * The logs API of the logs dashboard (the logs dashboard, `POST /api/logs/`) and central de erros
 * (central de erros, `POST /v1/api/logs/`), posted with a user token. Field names are the seeds'.
 */
/** The logs dashboard (logs dashboard) and central de erros (central de erros) `POST /api/logs/`, with a user JWT. */
export const UserLogSchema = z
  .object({
    event_id: EventIdSchema.optional(),
    message: z.string(),
    severity: LevelSchema.optional()
      .nullable()
      .meta({ description: 'DEBUG, INFO, WARNING, ERROR or CRITICAL (any case; aliases such as warn, fatal)' }),
    source: z.string().optional().nullable(),
    timestamp: TimestampSchema.optional().nullable(),
    environment: z.string().optional().nullable(),
    project: z
      .number()
      .int()
      .positive()
      .max(2 ** 31 - 1)
      .optional()
      .nullable()
      .meta({ description: 'Project id; default: your personal project' }),
  })
  .catchall(z.unknown())
  .meta({
    id: 'UserLog',
    description: 'The logs dashboard / central de erros log. Send one object or an array of them.',
    example: {
      message: 'User login successful',
      severity: 'INFO',
      source: 'auth_service',
      timestamp: '2024-01-01T12:00:00Z',
      environment: 'production',
    },
  });
export type UserLog = z.output<typeof UserLogSchema>;

const USER_LOG_KNOWN = new Set(Object.keys(UserLogSchema.shape));

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

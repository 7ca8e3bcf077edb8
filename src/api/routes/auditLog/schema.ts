import { z } from 'zod';
import { bearerAuth, errorResponses, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { AUDIT_ACTOR_TYPES } from '../../../entities/AuditEntry.ts';

const id = z.coerce
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);
const when = z.iso.datetime({ offset: true });

export const AuditLogQuery = PageQuery.extend({
  actor: z
    .string()
    .regex(/^((user|api_key|auth_token|system):)?\d*$/, 'user:<id>, api_key:<id>, auth_token:<id>, system, or a user id')
    .or(z.literal('system'))
    .optional()
    .meta({ description: '`user:12`, `api_key:3`, `auth_token:5`, `system`, or a bare user id' }),
  action: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'An action or a prefix of one: `project` matches `project.update`' }),
  target_type: z.string().trim().min(1).max(50).optional(),
  target_id: z.string().trim().min(1).max(100).optional(),
  project: id.optional(),
  since: when.optional().meta({ description: 'Entries at or after this time (ISO 8601)' }),
  until: when.optional().meta({ description: 'Entries before this time' }),
}).strict();

export function parseActor(raw: string | undefined): { actorType?: string; actorId?: number } {
  if (!raw) return {};
  if (raw === 'system') return { actorType: 'system' };
  const [type, n] = raw.includes(':') ? raw.split(':') : ['user', raw];
  return { actorType: type, ...(n ? { actorId: Number(n) } : {}) };
}

export const AuditEntryOut = z
  .object({
    id: z.number().int(),
    time: z.string(),
    actor: z.object({ type: z.enum(AUDIT_ACTOR_TYPES), id: z.number().int().nullable(), label: z.string() }),
    action: z.string().meta({ example: 'project.update' }),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    project: z.number().int().nullable(),
    changes: z
      .record(z.string(), z.tuple([z.unknown(), z.unknown()]))
      .meta({ description: '{field: [before, after]}; secrets appear as "[redacted]"' }),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
  })
  .meta({ id: 'AuditEntry' });

registry.registerPath({
  method: 'get',
  path: '/api/audit-log/',
  tags: ['audit'],
  summary: "The audit log, newest first: staff see everything, project admins and owners their projects' entries; others 403",
  security: [{ [bearerAuth.name]: [] }],
  request: { query: AuditLogQuery },
  responses: { 200: jsonResponse(paginated(AuditEntryOut, 'AuditLogList'), 'Entries'), ...errorResponses(400, 401, 403, 404) },
});

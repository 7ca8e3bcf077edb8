import type { Access } from '../../../domain/access/index.ts';
import { userLogToRecord, UserLogSchema } from '../../../domain/ingest/formats/logs.ts';
import { validateItems, type IngestLimits } from '../../../domain/ingest/items.ts';
import type { User } from '../../../entities/User.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import type { Quotas } from '../../../domain/quotas/index.ts';
import { jsonItems } from '../../ingest/json.ts';
import type { IngestRoute } from '../../ingest/runner.ts';

export interface LogsIngestDeps {
  access: Access;
  producer: EventProducer;
  limits: IngestLimits;
  quotas: Quotas;
}

/**
 * POST /api/logs/ (the logs dashboard) and /v1/api/logs/ (central de erros), with a user token. Each log goes
 * to its `project` or the caller's personal project, where they need the member role.
 * Served through Express (`via: 'express'` in the table): browsers post here, so the
 * app's CORS and security headers apply.
 */
export function logsRoute(deps: LogsIngestDeps): IngestRoute<User> {
  return {
    name: '/api/logs/',
    kind: 'log',
    methods: ['POST'],
    path: /^(?:\/v1)?\/api\/logs$/,
    via: 'express',
    headers: async (req) => {
      const user = await deps.access.user(req);
      deps.producer.assertCapacity();
      return user;
    },
    body: jsonItems({
      limits: deps.limits,
      capacity: () => deps.producer.assertCapacity(),
      records: async (items, batch, user, receivedAt) => {
        const logs = validateItems(UserLogSchema, items, batch, 'log');
        let personal: Promise<number> | undefined;
        const projects = await Promise.all(logs.map((l) => l.project ?? (personal ??= deps.access.personalProject(user.id))));
        for (const id of new Set(projects)) await deps.access.authorize(user, id, 'edit_data');
        return logs.map((l, i) => userLogToRecord(l, projects[i], receivedAt));
      },
      // A user's batch may go to several projects: each is charged its own logs, all or none.
      quota: (records) => deps.quotas.takeRecords(records, 'log'),
      enqueue: (records, bytes) => deps.producer.enqueue(records, bytes),
      kind: 'log',
      // The logs dashboard's answer: the log as it will be stored (severity upper case), with its id.
      answer: (records, batch) => {
        const out = records.map((rec) => ({
          event_id: rec.event_id,
          message: rec.message,
          severity: rec.level.toUpperCase(),
          source: rec.service,
          timestamp: rec.timestamp,
          environment: rec.environment,
          project: rec.project_id,
        }));
        return { status: 202, body: batch ? out : out[0] };
      },
    }),
  };
}

import type { Access } from '../../../domain/access/index.ts';
import { validateItems, type IngestLimits } from '../../../domain/ingest/items.ts';
import { pantiesToRecord, PantiesEventSchema } from '../../../domain/ingest/formats/panties.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import type { Quotas } from '../../../domain/quotas/index.ts';
import { jsonItems } from '../../ingest/json.ts';
import type { IngestRoute } from '../../ingest/runner.ts';

export interface PantiesDeps {
  access: Access;
  producer: EventProducer;
  limits: IngestLimits;
  quotas: Quotas;
}

/**
 * POST /api/events/ — Panties clients, with the project's API key as a Bearer
 * token. 202 `{"event_id"}` (or an array of them) once durably queued.
 */
export function pantiesRoute(deps: PantiesDeps): IngestRoute<{ projectId: number; keyId: number }> {
  return {
    name: '/api/events/',
    kind: 'error',
    methods: ['POST'],
    path: /^\/api\/events$/,
    headers: async (req) => {
      const key = await deps.access.apiKey(req, { scope: 'ingest' });
      deps.producer.assertCapacity();
      await deps.quotas.assertAvailable({ projectId: key.projectId, keyId: key.id }, 'error');
      return { projectId: key.projectId, keyId: key.id };
    },
    body: jsonItems({
      limits: deps.limits,
      capacity: () => deps.producer.assertCapacity(),
      records: (items, batch, ctx, receivedAt) =>
        validateItems(PantiesEventSchema, items, batch, 'event').map((e) => pantiesToRecord(e, ctx.projectId, receivedAt)),
      quota: (records, ctx) => deps.quotas.takeRecords(records, 'error', ctx.keyId),
      enqueue: (records, bytes) => deps.producer.enqueue(records, bytes),
      kind: 'error',
      answer: (records, batch) => {
        const ids = records.map((r) => ({ event_id: r.event_id }));
        return { status: 202, body: batch ? ids : ids[0] };
      },
    }),
  };
}

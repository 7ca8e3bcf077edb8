import type { IncomingMessage } from 'node:http';
import type { Access, ResolvedKey } from '../../../domain/access/index.ts';
import { unauthorized } from '../../../domain/errors.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import {
  checkLlmTextSizes,
  dataideaLlmToRecord,
  DataideaLlmLogSchema,
  dataideaToRecord,
  DataideaEventLogSchema,
} from '../../../domain/ingest/formats/dataidea.ts';
import { validateItems, type IngestLimits } from '../../../domain/ingest/items.ts';
import type { LlmLogRecord } from '../../../domain/logs/llmRecord.ts';
import type { LlmLogProducer } from '../../../queues/llmLogProducer.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import type { Quotas } from '../../../domain/quotas/index.ts';
import { jsonItems } from '../../ingest/json.ts';
import type { IngestRoute } from '../../ingest/runner.ts';

export interface DataideaDeps {
  access: Access;
  producer: EventProducer;
  llm: LlmLogProducer;
  /** Event logs: the ingest limits. */
  limits: IngestLimits;
  /** LLM logs: larger items (prompt + response), and each text's own limit. */
  llmLimits: IngestLimits;
  maxTextBytes: number;
  quotas: Quotas;
}

/** The key in the headers, checked before the body is read; null when the items carry their own. */
type HeaderKey = ResolvedKey | null;

const headerKey =
  (access: Access) =>
  async (req: IncomingMessage): Promise<HeaderKey> =>
    access.presentsKey(req) ? access.apiKey(req, { scope: 'ingest' }) : null;

/**
 * DataIdea sends its key as `api_key` in each body (an item's own key wins over the
 * header's). Every item needs a valid key with the ingest scope, or nothing is queued.
 */
async function projectsOf(access: Access, items: unknown[], header: HeaderKey): Promise<number[]> {
  const checked = new Map<string, Promise<ResolvedKey>>();
  return Promise.all(
    items.map(async (item) => {
      const own = item && typeof item === 'object' ? (item as { api_key?: unknown }).api_key : undefined;
      if (typeof own === 'string' && own) {
        if (!checked.has(own)) checked.set(own, access.checkKey(own, 'ingest'));
        return (await checked.get(own)!).projectId;
      }
      if (!header)
        throw unauthorized('API key required', 'authentication_required', 'Send "api_key" in the body or Authorization: Bearer <api_key>');
      return header.projectId;
    }),
  );
}

// DataIdea's own server answered {"status": "success"} beside the id; its clients may read that.
const answer = (records: Array<{ event_id: string }>, batch: boolean) => {
  const ids = records.map((r) => ({ status: 'success', event_id: r.event_id }));
  return { status: 202, body: batch ? ids : ids[0] };
};

/** POST /api/event-log/ — DataIdea event logs → events of kind 'log', origin 'dataidea'. */
export function dataideaEventLogRoute(deps: DataideaDeps): IngestRoute<HeaderKey> {
  return {
    name: '/api/event-log/',
    kind: 'log',
    methods: ['POST'],
    path: /^\/api\/event-log$/,
    headers: async (req) => {
      const key = await headerKey(deps.access)(req);
      deps.producer.assertCapacity();
      if (key) await deps.quotas.assertAvailable({ projectId: key.projectId, keyId: key.id }, 'log');
      return key;
    },
    body: jsonItems<HeaderKey, EventRecord>({
      limits: deps.limits,
      capacity: () => deps.producer.assertCapacity(),
      records: async (items, batch, header, receivedAt) => {
        const projects = await projectsOf(deps.access, items, header);
        return validateItems(DataideaEventLogSchema, items, batch, 'log').map((e, i) => dataideaToRecord(e, projects[i], receivedAt));
      },
      // Items with their own api_key are charged to their project (the header's key, if any, to its own limit too).
      quota: (records, header) => deps.quotas.takeRecords(records, 'log', header?.id ?? null),
      enqueue: (records, bytes) => deps.producer.enqueue(records, bytes),
      kind: 'log',
      answer,
    }),
  };
}

/** POST /api/llm-log/ — DataIdea LLM calls → llm_logs, through `store-llm-logs` jobs. */
export function dataideaLlmLogRoute(deps: DataideaDeps): IngestRoute<HeaderKey> {
  return {
    name: '/api/llm-log/',
    kind: 'llm',
    methods: ['POST'],
    path: /^\/api\/llm-log$/,
    headers: async (req) => {
      const key = await headerKey(deps.access)(req);
      deps.llm.assertCapacity();
      if (key) await deps.quotas.assertAvailable({ projectId: key.projectId, keyId: key.id }, 'llm');
      return key;
    },
    body: jsonItems<HeaderKey, LlmLogRecord>({
      limits: deps.llmLimits,
      capacity: () => deps.llm.assertCapacity(),
      records: async (items, batch, header, receivedAt) => {
        const projects = await projectsOf(deps.access, items, header);
        const logs = validateItems(DataideaLlmLogSchema, items, batch, 'log');
        logs.forEach((item, i) => checkLlmTextSizes(item, i, batch, deps.maxTextBytes));
        return logs.map((e, i) => dataideaLlmToRecord(e, projects[i], receivedAt));
      },
      quota: (records, header) => deps.quotas.takeRecords(records, 'llm', header?.id ?? null),
      enqueue: (records, bytes) => deps.llm.enqueue(records, bytes),
      kind: 'llm',
      answer,
    }),
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { ApiKeyResolver } from '../../../domain/apiKeys.ts';
import { AppError, forbidden, payloadTooLarge, unauthorized, zodDetails } from '../../../domain/errors.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import { dataideaLlmToRecord, DataideaLlmLogSchema, type LlmLogRecord } from '../../../domain/logs/llmRecord.ts';
import { dataideaToRecord, DataideaEventLogSchema } from '../../../domain/logs/payloads.ts';
import { ingestedItems, ingestRejected, observeHttp } from '../../../metrics.ts';
import type { LlmLogProducer } from '../../../queues/llmLogProducer.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import { parseJson, readBody } from '../../http/body.ts';
import { sendError, sendJson } from '../../http/send.ts';
import { itemsOf, type IngestLimits } from '../events/ingest.ts';

export interface DataideaIngestDeps {
  keys: ApiKeyResolver;
  producer: EventProducer;
  llm: LlmLogProducer;
  /** Event logs: the ingest limits. */
  limits: IngestLimits;
  /** LLM logs: larger items (prompt + response), and each text's own limit. */
  llmLimits: IngestLimits;
  maxTextBytes: number;
}

/**
 * Seed 3 sends its key as `api_key` in each body; `Authorization: Bearer <key>` works
 * too. Every item of a batch needs a valid key with the ingest scope, or nothing is queued.
 */
async function projectsFor(keys: ApiKeyResolver, header: string | undefined, items: unknown[]): Promise<number[]> {
  const fromHeader = header ? /^(?:Bearer|Token|Api-Key)\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
  const secrets = items.map((item) => {
    const own = item && typeof item === 'object' ? (item as { api_key?: unknown }).api_key : undefined;
    const secret = typeof own === 'string' && own ? own : fromHeader;
    if (!secret) throw unauthorized('API key required', 'authentication_required', 'Send "api_key" in the body or Authorization: Bearer <api_key>');
    return secret;
  });
  const resolved = new Map<string, number>();
  for (const secret of new Set(secrets)) {
    const key = await keys.resolve(secret);
    if (!key) throw unauthorized('Invalid API key', 'invalid_api_key');
    if (!key.scopes.includes('ingest')) throw forbidden('This API key cannot ingest logs', 'scope_missing');
    resolved.set(secret, key.projectId);
  }
  return secrets.map((s) => resolved.get(s)!);
}

function validate<S extends z.ZodType>(schema: S, items: unknown[], batch: boolean): Array<z.output<S>> {
  return items.map((item, i) => {
    const parsed = schema.safeParse(item);
    if (!parsed.success) throw new AppError(400, 'validation_error', 'Invalid log', zodDetails(parsed.error.issues, batch ? [i] : []));
    return parsed.data;
  });
}

interface Spec<S extends z.ZodType, R> {
  route: string;
  kind: string;
  schema: S;
  limits: IngestLimits;
  check?: (item: z.output<S>, index: number, batch: boolean) => void;
  toRecord: (item: z.output<S>, projectId: number, receivedAt: string) => R;
  enqueue: (records: R[], bytes: number) => Promise<void>;
  assertCapacity: () => void;
}

/** The shared shape of both seed 3 ingest routes on the lean node:http path (src/api/server.ts). */
function handler<S extends z.ZodType, R extends { event_id: string }>(keys: ApiKeyResolver, spec: Spec<S, R>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let status = 202;
    try {
      spec.assertCapacity();
      const buf = await readBody(req, spec.limits.maxRequestBytes);
      const body = parseJson(buf);
      const items = itemsOf(body, spec.limits, buf.length);
      const batch = Array.isArray(body);
      const projects = await projectsFor(keys, req.headers.authorization, items);
      const parsed = validate(spec.schema, items, batch);
      if (spec.check) parsed.forEach((item, i) => spec.check!(item, i, batch));
      const receivedAt = new Date().toISOString();
      const records = parsed.map((item, i) => spec.toRecord(item, projects[i], receivedAt));
      await spec.enqueue(records, buf.length);
      ingestedItems.inc({ kind: spec.kind }, records.length);
      // Seed 3's own server answered {"status": "success"}; its clients may read that.
      const ids = records.map((r) => ({ status: 'success', event_id: r.event_id }));
      sendJson(res, 202, batch ? ids : ids[0]);
    } catch (err) {
      status = err instanceof AppError ? err.status : 500;
      ingestRejected.inc({ kind: spec.kind, status: String(status) });
      sendError(res, err);
    } finally {
      observeHttp('POST', spec.route, status, started);
    }
  };
}

/** POST /api/event-log/ — seed 3 event logs → events of kind 'log', origin 'dataidea'. */
export function dataideaEventLogHandler(deps: DataideaIngestDeps) {
  return handler<typeof DataideaEventLogSchema, EventRecord>(deps.keys, {
    route: '/api/event-log/',
    kind: 'log',
    schema: DataideaEventLogSchema,
    limits: deps.limits,
    toRecord: dataideaToRecord,
    enqueue: (records, bytes) => deps.producer.enqueue(records, bytes),
    assertCapacity: () => deps.producer.assertCapacity(),
  });
}

/** POST /api/llm-log/ — seed 3 LLM calls → llm_logs, through `store-llm-logs` jobs. */
export function dataideaLlmLogHandler(deps: DataideaIngestDeps) {
  return handler<typeof DataideaLlmLogSchema, LlmLogRecord>(deps.keys, {
    route: '/api/llm-log/',
    kind: 'llm',
    schema: DataideaLlmLogSchema,
    limits: deps.llmLimits,
    check: (item, i, batch) => {
      for (const field of ['query', 'response'] as const) {
        const size = Buffer.byteLength(item[field] ?? '');
        if (size > deps.maxTextBytes) {
          throw payloadTooLarge(`${field} is ${size} bytes; the limit is ${deps.maxTextBytes}`, { path: batch ? `${i}.${field}` : field, limit_bytes: deps.maxTextBytes });
        }
      }
    },
    toRecord: dataideaLlmToRecord,
    enqueue: (records, bytes) => deps.llm.enqueue(records, bytes),
    assertCapacity: () => deps.llm.assertCapacity(),
  });
}

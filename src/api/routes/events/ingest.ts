import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, badRequest, forbidden, payloadTooLarge, unauthorized, zodDetails } from '../../../domain/errors.ts';
import type { ApiKeyResolver, ResolvedKey } from '../../../domain/apiKeys.ts';
import { pantiesToRecord, PantiesEventSchema } from '../../../domain/events/panties.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import { ingestedItems, ingestRejected, observeHttp } from '../../../metrics.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import { parseJson, readBody } from '../../http/body.ts';
import { sendError, sendJson } from '../../http/send.ts';

export interface IngestLimits {
  maxEventBytes: number;
  maxRequestBytes: number;
  maxBatchEvents: number;
}

export interface IngestDeps {
  keys: ApiKeyResolver;
  producer: EventProducer;
  limits: IngestLimits;
}

/** `Authorization: Bearer <api_key>` → the key, or 401. */
export async function keyFromBearer(keys: ApiKeyResolver, header: string | undefined): Promise<ResolvedKey> {
  const m = header ? /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw unauthorized('API key required', 'authentication_required', 'Send Authorization: Bearer <api_key>');
  const key = await keys.resolve(m[1]);
  if (!key) throw unauthorized('Invalid API key', 'invalid_api_key');
  return key;
}

/** Splits a body into items: one object, or an array for a batch. */
export function itemsOf(body: unknown, limits: IngestLimits, bodyBytes: number): unknown[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw badRequest('Empty batch', 'Send one event object, or a non-empty array of them', 'empty_batch');
  if (items.length > limits.maxBatchEvents) {
    throw payloadTooLarge(`A batch holds at most ${limits.maxBatchEvents} items`, { max_items: limits.maxBatchEvents, items: items.length });
  }
  // Only a body larger than the per-item limit can hold an oversized item; skip the work otherwise.
  if (bodyBytes > limits.maxEventBytes) {
    items.forEach((item, i) => {
      const size = Buffer.byteLength(JSON.stringify(item));
      if (size > limits.maxEventBytes) {
        throw payloadTooLarge(`Item ${i} is ${size} bytes; the limit is ${limits.maxEventBytes}`, { index: i, limit_bytes: limits.maxEventBytes });
      }
    });
  }
  return items;
}

/**
 * POST /api/events/ — seed 1 (Panties). Served by the lean node:http path (see
 * src/api/server.ts): Express costs more per request than the whole write path.
 * Validates every item before queueing any, so a batch is accepted or refused whole.
 */
export function pantiesIngestHandler(deps: IngestDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let status = 202;
    try {
      const key = await keyFromBearer(deps.keys, req.headers.authorization);
      if (!key.scopes.includes('ingest')) throw forbidden('This API key cannot ingest events', 'scope_missing');
      deps.producer.assertCapacity();
      const buf = await readBody(req, deps.limits.maxRequestBytes);
      const body = parseJson(buf);
      const items = itemsOf(body, deps.limits, buf.length);

      const receivedAt = new Date().toISOString();
      const records: EventRecord[] = new Array(items.length);
      for (let i = 0; i < items.length; i++) {
        const parsed = PantiesEventSchema.safeParse(items[i]);
        if (!parsed.success) {
          throw new AppError(400, 'validation_error', 'Invalid event', zodDetails(parsed.error.issues, Array.isArray(body) ? [i] : []));
        }
        records[i] = pantiesToRecord(parsed.data, key.projectId, receivedAt);
      }
      await deps.producer.enqueue(records, buf.length);
      ingestedItems.inc({ kind: 'error' }, records.length);
      const ids = records.map((r) => ({ event_id: r.event_id }));
      sendJson(res, 202, Array.isArray(body) ? ids : ids[0]);
    } catch (err) {
      status = err instanceof AppError ? err.status : 500;
      ingestRejected.inc({ kind: 'error', status: String(status) });
      sendError(res, err);
    } finally {
      observeHttp('POST', '/api/events/', status, started);
    }
  };
}

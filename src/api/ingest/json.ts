import type { IncomingMessage, ServerResponse } from 'node:http';
import { itemsOf, type IngestLimits } from '../../domain/ingest/items.ts';
import { ingestedItems } from '../../metrics.ts';
import { parseJson, readBody } from '../http/body.ts';
import { sendJson } from '../http/send.ts';

/**
 * The body phase every JSON ingest format shares: read (decoded, within the limits),
 * parse, split into items (one object or a batch), turn them into records — the
 * format's part, which validates every item before any is queued —, enqueue (group
 * commit: resolves once durably in Redis), answer.
 */
export interface JsonItems<C, R> {
  limits: IngestLimits;
  /** 503 when the queue cannot take more now; also checked before the body is read. */
  capacity(): void;
  records(items: unknown[], batch: boolean, ctx: C, receivedAt: string): R[] | Promise<R[]>;
  /** Quotas: takes the records from their buckets (all or none), or throws the 429. */
  quota?(records: R[], ctx: C): Promise<void>;
  enqueue(records: R[], bytes: number): Promise<void>;
  /** ingest_accepted{kind} */
  kind: string;
  answer(records: R[], batch: boolean): { status: number; body: unknown };
}

export function jsonItems<C, R>(spec: JsonItems<C, R>) {
  return async (req: IncomingMessage, res: ServerResponse, ctx: C): Promise<void> => {
    spec.capacity();
    const buf = await readBody(req, spec.limits.maxRequestBytes);
    const { items, batch } = itemsOf(parseJson(buf), spec.limits, buf.length);
    const records = await spec.records(items, batch, ctx, new Date().toISOString());
    await spec.quota?.(records, ctx);
    await spec.enqueue(records, buf.length);
    ingestedItems.inc({ kind: spec.kind }, records.length);
    const { status, body } = spec.answer(records, batch);
    sendJson(res, status, body);
  };
}

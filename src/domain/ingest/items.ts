import type { z } from 'zod';
import { AppError, badRequest, payloadTooLarge, zodDetails } from '../errors.ts';

export interface IngestLimits {
  maxEventBytes: number;
  maxRequestBytes: number;
  maxBatchEvents: number;
}

/**
 * Splits a parsed body into items: one object, or an array for a batch (up to
 * maxBatchEvents items, each up to maxEventBytes). A batch is accepted or refused whole.
 */
export function itemsOf(body: unknown, limits: IngestLimits, bodyBytes: number): { items: unknown[]; batch: boolean } {
  const batch = Array.isArray(body);
  const items = batch ? (body as unknown[]) : [body];
  if (items.length === 0) throw badRequest('Empty batch', 'Send one object, or a non-empty array of them', 'empty_batch');
  if (items.length > limits.maxBatchEvents) {
    throw payloadTooLarge(`A batch holds at most ${limits.maxBatchEvents} items`, {
      max_items: limits.maxBatchEvents,
      items: items.length,
    });
  }
  // Only a body larger than the per-item limit can hold an oversized item; skip the work otherwise.
  if (bodyBytes > limits.maxEventBytes) {
    items.forEach((item, i) => {
      const size = Buffer.byteLength(JSON.stringify(item));
      if (size > limits.maxEventBytes) {
        throw payloadTooLarge(`Item ${i} is ${size} bytes; the limit is ${limits.maxEventBytes}`, {
          index: i,
          limit_bytes: limits.maxEventBytes,
        });
      }
    });
  }
  return { items, batch };
}

/** Every item through its format's schema; the first invalid one refuses the batch (400 validation_error, paths like "1.level"). */
export function validateItems<S extends z.ZodType>(schema: S, items: unknown[], batch: boolean, what: string): Array<z.output<S>> {
  return items.map((item, i) => {
    const parsed = schema.safeParse(item);
    if (!parsed.success) throw new AppError(400, 'validation_error', `Invalid ${what}`, zodDetails(parsed.error.issues, batch ? [i] : []));
    return parsed.data;
  });
}

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import type { AlertTaps } from '../domain/alerts/taps.ts';
import { PriceBook } from '../domain/llm/prices.ts';
import type { LlmLogRecord } from '../domain/logs/llmRecord.ts';
import { insertLlmLogs, mergeLlmLogs } from '../domain/logs/llmStore.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import { defaultRuleBook } from '../domain/scrubbing/book.ts';
import { scrubLlmLog, type RuleBook } from '../domain/scrubbing/records.ts';
import { storeBatch, type Stored } from './storagePolicy.ts';

/**
 * `store-llm-logs`: one job = one group of LLM calls = multi-row inserts, idempotent
 * on (project_id, event_id) — the event_id was assigned before enqueue, so a
 * re-delivered job inserts nothing. Each call is priced here (the project's, the
 * instance's or the built-in price of its model), so every door gets a cost. Failures
 * follow the storage policy (storagePolicy.ts). With `alerts`, llm.threshold rules count
 * the calls that were new. Records flagged `merge` (Langfuse's create/update events) merge
 * into their row instead, and are priced once merged: the model and the usage may each
 * have come in a different event; a cost the client sent wins over the price table.
 */
export function storeLlmLogsProcessor(
  ds: DataSource,
  log: Logger,
  alerts?: AlertTaps,
  prices = new PriceBook(ds, config.llmLogs.pricesCacheTtlMs),
  scrubbing: RuleBook | null = defaultRuleBook(ds),
) {
  return async (job: Job): Promise<Stored> => {
    const items: LlmLogRecord[] = [];
    const merging: LlmLogRecord[] = [];
    const given = (job.data as JobPayload<'store-llm-logs'>).items;
    // Prompts and responses are scrubbed before the row is made (src/domain/scrubbing).
    const scrubbers = scrubbing ? await scrubbing.scrubbers(given.map((i) => i.project_id)) : null;
    for (const raw of given) {
      const item = scrubbers ? scrubLlmLog(scrubbers.get(raw.project_id)!, raw) : raw;
      if (item.merge) merging.push(item);
      else items.push({ ...item, cost: await prices.cost(item.project_id, item.model, item) });
    }
    const fresh = new Set<string>();
    const stored = items.length
      ? await storeBatch(ds, items, (batch) => insertLlmLogs(ds, batch, fresh), { job, log, what: 'LLM logs' })
      : { inserted: 0, duplicates: 0 };
    if (merging.length) {
      const merged = await storeBatch(ds, merging, (batch) => mergeAndPrice(ds, prices, batch, fresh), { job, log, what: 'LLM logs' });
      stored.inserted += merged.inserted;
      stored.duplicates += merged.duplicates;
    }
    if (alerts) await alerts.llmStored([...items, ...merging], fresh);
    return stored;
  };
}

/** Merges, pricing each merged call: a cost the client sent wins over the price table. */
const mergeAndPrice = (ds: DataSource, prices: PriceBook, batch: LlmLogRecord[], fresh: Set<string>): Promise<number> =>
  mergeLlmLogs(ds, batch, async (r) => r.provided_cost ?? (await prices.cost(r.project_id, r.model, r)), fresh);

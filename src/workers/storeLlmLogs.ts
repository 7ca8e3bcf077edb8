import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { existingProjects } from '../domain/events/store.ts';
import { config } from '../config.ts';
import { PriceBook } from '../domain/llm/prices.ts';
import type { LlmLogRecord } from '../domain/logs/llmRecord.ts';
import { insertLlmLogs } from '../domain/logs/llmStore.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';

const isDataError = (err: unknown) => /^22/.test((err as { code?: string }).code ?? '');
const isForeignKeyError = (err: unknown) => (err as { code?: string }).code === '23503';

/**
 * `store-llm-logs`: one job = one group of LLM calls = multi-row inserts, idempotent
 * on (project_id, event_id) — the event_id was assigned before enqueue, so a
 * re-delivered job inserts nothing. Each call is priced here (the project's, the
 * instance's or the built-in price of its model), so every door gets a cost.
 * Throwing retries the job with backoff.
 */
export function storeLlmLogsProcessor(ds: DataSource, log: Logger, prices = new PriceBook(ds, config.llmLogs.pricesCacheTtlMs)) {
  return async (job: Job): Promise<{ inserted: number; duplicates: number }> => {
    const parsed = JOBS['store-llm-logs'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid store-llm-logs payload: ${parsed.error.message.slice(0, 500)}`);
    let items: LlmLogRecord[] = [];
    for (const item of parsed.data.items) items.push({ ...item, cost: await prices.cost(item.project_id, item.model, item) });

    let inserted: number;
    try {
      inserted = await insertLlmLogs(ds, items);
    } catch (err) {
      if (isForeignKeyError(err)) {
        // The project was deleted while its calls waited: they go with it.
        const alive = await existingProjects(ds, [...new Set(items.map((i) => i.project_id))]);
        const before = items.length;
        items = items.filter((i) => alive.has(i.project_id));
        log.warn({ jobId: job.id, dropped: before - items.length }, 'LLM logs of deleted projects dropped');
        inserted = await insertLlmLogs(ds, items);
      } else if (isDataError(err)) {
        inserted = await insertOneByOne(ds, items, job, log);
      } else {
        throw err; // connection trouble and the like: retry with backoff
      }
    }
    return { inserted, duplicates: items.length - inserted };
  };
}

/** Store what the database takes; keep the job (and its data) in the failed set for the rest. */
async function insertOneByOne(ds: DataSource, items: LlmLogRecord[], job: Job, log: Logger): Promise<number> {
  let inserted = 0;
  const rejected: Array<{ event_id: string; error: string }> = [];
  for (const item of items) {
    try {
      inserted += await insertLlmLogs(ds, [item]);
    } catch (err) {
      if (!isDataError(err)) throw err;
      rejected.push({ event_id: item.event_id, error: (err as Error).message });
    }
  }
  if (rejected.length) {
    log.error({ jobId: job.id, rejected }, 'LLM logs the database refused');
    throw new UnrecoverableError(`database refused ${rejected.length} LLM log(s): ${JSON.stringify(rejected).slice(0, 1000)}`);
  }
  return inserted;
}

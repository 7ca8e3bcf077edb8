import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sqlOf } from '../db/sql.ts';
import { existingProjects } from '../domain/events/store.ts';
import type { SpanRecord } from '../domain/spans/record.ts';
import { insertSpans } from '../domain/spans/store.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';

const isDataError = (err: unknown) => /^22/.test((err as { code?: string }).code ?? '');
const isForeignKeyError = (err: unknown) => (err as { code?: string }).code === '23503';

/**
 * `store-spans`: one job = one group of spans = multi-row inserts, idempotent on
 * (project_id, trace_id, span_id). Throwing retries the job with backoff.
 */
export function storeSpansProcessor(ds: DataSource, log: Logger) {
  const sql = sqlOf(ds);
  return async (job: Job): Promise<{ inserted: number; duplicates: number }> => {
    const parsed = JOBS['store-spans'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid store-spans payload: ${parsed.error.message.slice(0, 500)}`);
    let items: SpanRecord[] = parsed.data.items;
    let inserted: number;
    try {
      inserted = await insertSpans(sql, items);
    } catch (err) {
      if (isForeignKeyError(err)) {
        // The project was deleted while its spans waited: they go with it.
        const alive = await existingProjects(ds, [...new Set(items.map((i) => i.project_id))]);
        const before = items.length;
        items = items.filter((i) => alive.has(i.project_id));
        log.warn({ jobId: job.id, dropped: before - items.length }, 'spans of deleted projects dropped');
        inserted = await insertSpans(sql, items);
      } else if (isDataError(err)) {
        inserted = await insertOneByOne(sql, items, job, log);
      } else {
        throw err; // connection trouble and the like: retry with backoff
      }
    }
    return { inserted, duplicates: items.length - inserted };
  };
}

/** Store what the database takes; keep the job (and its data) in the failed set for the rest. */
async function insertOneByOne(sql: ReturnType<typeof sqlOf>, items: SpanRecord[], job: Job, log: Logger): Promise<number> {
  let inserted = 0;
  const rejected: Array<{ span_id: string; error: string }> = [];
  for (const item of items) {
    try {
      inserted += await insertSpans(sql, [item]);
    } catch (err) {
      if (!isDataError(err)) throw err;
      rejected.push({ span_id: item.span_id, error: (err as Error).message });
    }
  }
  if (rejected.length) {
    log.error({ jobId: job.id, rejected }, 'spans the database refused');
    throw new UnrecoverableError(`database refused ${rejected.length} span(s): ${JSON.stringify(rejected).slice(0, 1000)}`);
  }
  return inserted;
}

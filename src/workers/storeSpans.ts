import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sqlOf } from '../db/sql.ts';
import { insertSpans } from '../domain/spans/store.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import { storeBatch, type Stored } from './storagePolicy.ts';

/**
 * `store-spans`: one job = one group of spans = multi-row inserts, idempotent on
 * (project_id, trace_id, span_id). Failures follow the storage policy (storagePolicy.ts).
 */
export function storeSpansProcessor(ds: DataSource, log: Logger) {
  const sql = sqlOf(ds);
  return async (job: Job): Promise<Stored> => {
    const { items } = job.data as JobPayload<'store-spans'>;
    return storeBatch(ds, items, (batch) => insertSpans(sql, batch), { job, log, what: 'spans', idOf: (s) => s.span_id });
  };
}

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sqlOf } from '../db/sql.ts';
import { insertSpans, mergeSpans } from '../domain/spans/store.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import { defaultRuleBook } from '../domain/scrubbing/book.ts';
import { scrubAll, scrubSpan, type RuleBook } from '../domain/scrubbing/records.ts';
import { storeBatch, type Stored } from './storagePolicy.ts';

/**
 * `store-spans`: one job = one group of spans = multi-row inserts, idempotent on
 * (project_id, trace_id, span_id); spans flagged `merge` (Langfuse's create/update events)
 * merge into the stored span instead. Failures follow the storage policy (storagePolicy.ts).
 */
export function storeSpansProcessor(ds: DataSource, log: Logger, scrubbing: RuleBook | null = defaultRuleBook(ds)) {
  const sql = sqlOf(ds);
  return async (job: Job): Promise<Stored> => {
    const given = (job.data as JobPayload<'store-spans'>).items;
    // Attributes (headers, db statements, URLs with tokens) are scrubbed before the row is made.
    const items = scrubbing ? await scrubAll(scrubbing, given, scrubSpan) : given;
    const store = async (batch: typeof items) => {
      const merging = batch.filter((s) => s.merge);
      const plain = merging.length ? batch.filter((s) => !s.merge) : batch;
      return (plain.length ? await insertSpans(sql, plain) : 0) + (merging.length ? await mergeSpans(ds, merging) : 0);
    };
    return storeBatch(ds, items, store, { job, log, what: 'spans', idOf: (s) => s.span_id });
  };
}

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sqlOf } from '../db/sql.ts';
import { insertSpans } from '../domain/spans/store.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import { defaultRuleBook } from '../domain/scrubbing/book.ts';
import { scrubAll, scrubSpan, type RuleBook } from '../domain/scrubbing/records.ts';
import { storeBatch, type Stored } from './storagePolicy.ts';

/**
 * `store-spans`: one job = one group of spans = multi-row inserts, idempotent on
 * (project_id, trace_id, span_id). Failures follow the storage policy (storagePolicy.ts).
 */
export function storeSpansProcessor(ds: DataSource, log: Logger, scrubbing: RuleBook | null = defaultRuleBook(ds)) {
  const sql = sqlOf(ds);
  return async (job: Job): Promise<Stored> => {
    const given = (job.data as JobPayload<'store-spans'>).items;
    // Attributes (headers, db statements, URLs with tokens) are scrubbed before the row is made.
    const items = scrubbing ? await scrubAll(scrubbing, given, scrubSpan) : given;
    return storeBatch(ds, items, (batch) => insertSpans(sql, batch), { job, log, what: 'spans', idOf: (s) => s.span_id });
  };
}

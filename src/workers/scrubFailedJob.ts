import type { Job } from 'bullmq';
import { config } from '../config.ts';
import type { JobName } from '../queues/contract.ts';
import { JOBS } from '../queues/contract.ts';
import type { RuleBook } from '../domain/scrubbing/records.ts';
import { scrubAll, scrubEvent, scrubLlmLog, scrubSpan } from '../domain/scrubbing/records.ts';
import { Marks, Scrubber } from '../domain/scrubbing/scrubber.ts';

/**
 * A job that failed for good stays in the failed set (visible, re-runnable from the
 * admin), so its data must not stay raw: its items are scrubbed in place with their
 * projects' rules, as they would have been stored (their marks kept in each item, so a
 * re-run stores them with the marks). A payload that does not even parse gets the
 * default rules over the whole of it. Jobs still retrying keep their data as sent until
 * they succeed or give up. Completed events jobs are removed at once (contract.ts).
 */
export async function scrubFailedJob(job: Job, err: Error, book: RuleBook | null): Promise<void> {
  if (!book) return;
  const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
  if (!final) return;
  const name = job.name as JobName;
  if (name !== 'store-events' && name !== 'store-llm-logs' && name !== 'store-spans') return;
  const parsed = JOBS[name].payload.safeParse(job.data);
  let data: unknown;
  if (!parsed.success) data = new Scrubber([], config.scrubbing.hashSecret).value(job.data, '', new Marks());
  else if (name === 'store-events')
    data = {
      ...parsed.data,
      items: await scrubAll(book, (parsed.data as { items: Parameters<typeof scrubEvent>[1][] }).items, scrubEvent),
    };
  else if (name === 'store-llm-logs')
    data = {
      ...parsed.data,
      items: await scrubAll(book, (parsed.data as { items: Parameters<typeof scrubLlmLog>[1][] }).items, scrubLlmLog),
    };
  else
    data = { ...parsed.data, items: await scrubAll(book, (parsed.data as { items: Parameters<typeof scrubSpan>[1][] }).items, scrubSpan) };
  await job.updateData(data);
}

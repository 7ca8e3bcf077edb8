import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { insertEvents } from '../domain/events/store.ts';
import type { EventRecord } from '../domain/events/record.ts';
import { IssueIdCache, prepareIssues } from '../domain/issues/assign.ts';
import { sqlOf } from '../db/sql.ts';
import { publishStoredLogs, type Publisher } from '../live/channel.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import { GroupCommit } from '../queues/groupCommit.ts';
import { storeBatch, type Stored } from './storagePolicy.ts';

const keyOf = (r: { project_id: number; event_id: string }) => `${r.project_id}:${r.event_id}`;

/**
 * `store-events`: one job = one group of events, stored by one statement, usually. It
 * inserts the events (idempotent on (project_id, event_id)) and adds exactly the new
 * ones to their issues' counters, atomically — so a re-delivered job neither duplicates
 * an event nor counts it twice. Issues not seen before are created by a statement of
 * their own first. Jobs running at the same time in this process share their statement
 * (a second group commit, worker side): round trips and commits are what costs on this
 * hardware. Throwing retries the job with backoff. With a `live` publisher, logs that
 * were new are announced to the live tail once stored.
 */
export function storeEventsProcessor(ds: DataSource, log: Logger, live?: Publisher) {
  const sql = sqlOf(ds);
  const issues = new IssueIdCache();
  const store = async (items: EventRecord[]) => {
    const rows = await insertEvents(sql, items, await prepareIssues(sql, items, issues));
    if (live) await publishStoredLogs(live, items, rows, log);
    return rows;
  };
  const shared = new GroupCommit(store, { windowMs: 2, maxItems: 5000, maxBytes: Number.POSITIVE_INFINITY, maxInFlight: 2 });
  /** This job's share of a shared statement: how many of its own events were new. */
  const insertShared = async (items: EventRecord[]): Promise<number> => {
    const rows = await shared.add(items, 0);
    const mine = new Set(items.map(keyOf));
    return rows.reduce((n, r) => (mine.has(keyOf(r)) ? n + 1 : n), 0);
  };
  // Retries after a failed shared statement go alone, so one job's bad data cannot fail another's.
  const insert = async (items: EventRecord[]) => (await store(items)).length;

  return async (job: Job): Promise<Stored> => {
    const { items } = job.data as JobPayload<'store-events'>;
    try {
      const inserted = await insertShared(items);
      return { inserted, duplicates: items.length - inserted };
    } catch {
      // The shared statement failed: this job's events alone, so another job's problem is not
      // ours; then the storage policy (a deleted project's events go, a refused one is kept failed).
      return storeBatch(ds, items, insert, { job, log, what: 'events', onProjectGone: () => issues.clear() });
    }
  };
}

export type StoreEventsPayload = JobPayload<'store-events'>;

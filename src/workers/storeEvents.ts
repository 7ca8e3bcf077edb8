import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { existingProjects, insertEvents } from '../domain/events/store.ts';
import type { EventRecord } from '../domain/events/record.ts';
import { IssueIdCache, prepareIssues } from '../domain/issues/assign.ts';
import { unlinkDuplicateLogs } from '../domain/issues/duplicates.ts';
import { prepareReleases, ReleaseCache } from '../domain/releases/releases.ts';
import { Symbolicator, symbolicatorFor } from '../domain/sourcemaps/symbolicate.ts';
import { sqlOf } from '../db/sql.ts';
import { publishStoredLogs, type Publisher } from '../live/channel.ts';
import type { Logger } from '../logger.ts';
import { JOBS, type JobPayload } from '../queues/contract.ts';
import { GroupCommit } from '../queues/groupCommit.ts';

const isDataError = (err: unknown) => /^22/.test((err as { code?: string }).code ?? '');
const isForeignKeyError = (err: unknown) => (err as { code?: string }).code === '23503';

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
  const releases = new ReleaseCache();
  const symbolicator = symbolicatorFor(ds);
  const store = async (given: EventRecord[]) => {
    // Source maps first: issues group by the original files and functions.
    const items = given.some((r) => Symbolicator.wants(r.data)) ? await Promise.all(given.map((r) => symbolicator.symbolicateRecord(r))) : given;
    // Releases first: the statement that stores events compares against them (regressions).
    await prepareReleases(sql, items, releases);
    const rows = await insertEvents(sql, items, await prepareIssues(sql, items, issues));
    // One error, one issue: Sentry error logs that came before their event leave the issue they opened.
    if (await unlinkDuplicateLogs(sql, items)) issues.clear();
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

  return async (job: Job): Promise<{ inserted: number; duplicates: number }> => {
    const parsed = JOBS['store-events'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid store-events payload: ${parsed.error.message.slice(0, 500)}`);
    let items: EventRecord[] = parsed.data.items;

    let inserted: number;
    try {
      inserted = await insertShared(items);
    } catch {
      // The shared statement failed: this job's events alone, so another job's problem is not ours.
      try {
        inserted = await insert(items);
      } catch (err) {
        if (isForeignKeyError(err)) {
          // The project was deleted while its events waited: they go with it (and its issues with it).
          issues.clear();
          releases.clear();
          const alive = await existingProjects(ds, [...new Set(items.map((i) => i.project_id))]);
          const dropped = items.length;
          items = items.filter((i) => alive.has(i.project_id));
          log.warn({ jobId: job.id, dropped: dropped - items.length }, 'events of deleted projects dropped');
          inserted = await insert(items);
        } else if (isDataError(err)) {
          inserted = await insertOneByOne(insert, items, job, log);
        } else {
          throw err; // connection trouble and the like: retry with backoff
        }
      }
    }
    return { inserted, duplicates: items.length - inserted };
  };
}

/**
 * Normalization should make every accepted record insertable; if one still is not,
 * store the others and fail the job *unrecoverably* so it stays in the failed set with
 * its data, visible and re-runnable once fixed (re-running skips the rows already in).
 */
async function insertOneByOne(insert: (items: EventRecord[]) => Promise<number>, items: EventRecord[], job: Job, log: Logger): Promise<number> {
  let inserted = 0;
  const rejected: Array<{ event_id: string; error: string }> = [];
  for (const item of items) {
    try {
      inserted += await insert([item]);
    } catch (err) {
      if (!isDataError(err)) throw err;
      rejected.push({ event_id: item.event_id, error: (err as Error).message });
    }
  }
  if (rejected.length) {
    log.error({ jobId: job.id, rejected }, 'events the database refused');
    throw new UnrecoverableError(`database refused ${rejected.length} event(s): ${JSON.stringify(rejected).slice(0, 1000)}`);
  }
  return inserted;
}

export type StoreEventsPayload = JobPayload<'store-events'>;

import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { insertEvents, type StoredBatch } from '../domain/events/store.ts';
import type { EventRecord } from '../domain/events/record.ts';
import { IssueIdCache, prepareIssues } from '../domain/issues/assign.ts';
import { unlinkDuplicateLogs } from '../domain/issues/duplicates.ts';
import { prepareReleases, ReleaseCache } from '../domain/releases/releases.ts';
import { Symbolicator, symbolicatorFor } from '../domain/sourcemaps/symbolicate.ts';
import { sqlOf } from '../db/sql.ts';
import { publishStoredLogs, type Publisher } from '../live/channel.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import { GroupCommit } from '../queues/groupCommit.ts';
import type { AlertTaps } from '../domain/alerts/taps.ts';
import { scrubEvent, scrubLink, type RuleBook } from '../domain/scrubbing/records.ts';
import { defaultRuleBook } from '../domain/scrubbing/book.ts';
import { storeBatch, type Stored } from './storagePolicy.ts';

const keyOf = (r: { project_id: number; event_id: string }) => `${r.project_id}:${r.event_id}`;

/** One stored group: what the statement answered, for the alerts (told once per group). */
interface StoredGroup {
  items: EventRecord[];
  batch: StoredBatch;
  tapped: boolean;
}

/**
 * `store-events`: one job = one group of events, stored by one statement, usually. It
 * inserts the events (idempotent on (project_id, event_id)) and adds exactly the new
 * ones to their issues' counters, atomically — so a re-delivered job neither duplicates
 * an event nor counts it twice. Issues not seen before are created by a statement of
 * their own first. Jobs running at the same time in this process share their statement
 * (a second group commit, worker side): round trips and commits are what costs on this
 * hardware. Throwing retries the job with backoff. With a `live` publisher, logs that
 * were new are announced to the live tail once stored; with `alerts`, new and reopened
 * issues and the new events' counts go to the alerts (src/domain/alerts/taps.ts).
 */
export function storeEventsProcessor(
  ds: DataSource,
  log: Logger,
  live?: Publisher,
  alerts?: AlertTaps,
  scrubbing: RuleBook | null = defaultRuleBook(ds),
) {
  const sql = sqlOf(ds);
  const issues = new IssueIdCache();
  const releases = new ReleaseCache();
  const symbolicator = symbolicatorFor(ds);
  const store = async (given: EventRecord[]): Promise<StoredGroup> => {
    // Source maps first: issues group by the original files and functions.
    const items = given.some((r) => Symbolicator.wants(r.data))
      ? await Promise.all(given.map((r) => symbolicator.symbolicateRecord(r)))
      : given;
    // Releases first: the statement that stores events compares against them (regressions).
    await prepareReleases(sql, items, releases);
    const links = await prepareIssues(sql, items, issues);
    // Scrubbing after grouping: the fingerprint is already taken, so scrubbing cannot move an event to
    // another issue; only the stored text (and the issue's title) lose their secrets (src/domain/scrubbing).
    let rows = items;
    let safeLinks = links;
    if (scrubbing) {
      const scrubbers = await scrubbing.scrubbers(items.map((r) => r.project_id));
      rows = items.map((r) => scrubEvent(scrubbers.get(r.project_id)!, r));
      safeLinks = links.map((l, i) => scrubLink(scrubbers.get(items[i].project_id)!, l));
    }
    const batch = await insertEvents(sql, rows, safeLinks);
    // One error, one issue: Sentry error logs that came before their event leave the issue they opened.
    if (await unlinkDuplicateLogs(sql, rows)) issues.clear();
    if (live) await publishStoredLogs(live, rows, batch.events, log);
    return { items: rows, batch, tapped: false };
  };
  // The alerts hear of a stored group once, from whichever of its jobs resumes first, after
  // the shared statement's slot is free again (a Redis round trip must not hold it).
  const tap = async (s: StoredGroup) => {
    if (!alerts || s.tapped) return;
    s.tapped = true;
    await alerts.eventsStored(s.items, s.batch);
  };
  const shared = new GroupCommit(store, { windowMs: 2, maxItems: 5000, maxBytes: Number.POSITIVE_INFINITY, maxInFlight: 2 });
  /** This job's share of a shared statement: how many of its own events were new. */
  const insertShared = async (items: EventRecord[]): Promise<number> => {
    const stored = await shared.add(items, 0);
    await tap(stored);
    const mine = new Set(items.map(keyOf));
    return stored.batch.events.reduce((n, r) => (mine.has(keyOf(r)) ? n + 1 : n), 0);
  };
  // Retries after a failed shared statement go alone, so one job's bad data cannot fail another's.
  const insert = async (items: EventRecord[]) => {
    const stored = await store(items);
    await tap(stored);
    return stored.batch.events.length;
  };

  return async (job: Job): Promise<Stored> => {
    const { items } = job.data as JobPayload<'store-events'>;
    try {
      const inserted = await insertShared(items);
      return { inserted, duplicates: items.length - inserted };
    } catch {
      // The shared statement failed: this job's events alone, so another job's problem is not
      // ours; then the storage policy (a deleted project's events go, a refused one is kept failed).
      return storeBatch(ds, items, insert, {
        job,
        log,
        what: 'events',
        onProjectGone: () => {
          issues.clear();
          releases.clear();
        },
      });
    }
  };
}

export type StoreEventsPayload = JobPayload<'store-events'>;

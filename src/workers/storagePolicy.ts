import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { existingProjects } from '../domain/events/store.ts';
import type { Logger } from '../logger.ts';

const isDataError = (err: unknown) => /^22/.test((err as { code?: string }).code ?? '');
const isForeignKeyError = (err: unknown) => (err as { code?: string }).code === '23503';

export interface Stored {
  inserted: number;
  duplicates: number;
}

/**
 * What a store processor does when a batch insert fails, the same for every kind:
 * - a foreign-key violation means the project was deleted while its items waited: they
 *   go with it (`onProjectGone` lets the caller forget what it cached), the rest is stored;
 * - a data error means one item the database refuses (normalization should make every
 *   accepted item insertable): the others are stored one by one and the job fails
 *   *unrecoverably*, so it stays in the failed set with its data, re-runnable once fixed
 *   (re-running skips the rows already in);
 * - anything else (connection trouble) is thrown: the job retries with backoff.
 * `insert` must be idempotent (ON CONFLICT DO NOTHING) and answer how many were new.
 */
export interface StoreContext<T> {
  job: Job;
  log: Logger;
  /** What the items are, for the logs: "events", "LLM logs", "spans". */
  what: string;
  onProjectGone?: () => void;
  /** An item's id, to say which the database refused (default: event_id). */
  idOf?: (item: T) => string;
}

export async function storeBatch<T extends { project_id: number }>(
  ds: DataSource,
  items: T[],
  insert: (items: T[]) => Promise<number>,
  ctx: StoreContext<T>,
): Promise<Stored> {
  try {
    const inserted = await insert(items);
    return { inserted, duplicates: items.length - inserted };
  } catch (err) {
    if (isForeignKeyError(err)) {
      ctx.onProjectGone?.();
      const alive = await existingProjects(ds, [...new Set(items.map((i) => i.project_id))]);
      const kept = items.filter((i) => alive.has(i.project_id));
      ctx.log.warn({ jobId: ctx.job.id, dropped: items.length - kept.length }, `${ctx.what} of deleted projects dropped`);
      return storeBatch(ds, kept, insert, { ...ctx, onProjectGone: undefined });
    }
    if (isDataError(err)) return insertOneByOne(items, insert, ctx);
    throw err;
  }
}

async function insertOneByOne<T>(items: T[], insert: (items: T[]) => Promise<number>, ctx: StoreContext<T>): Promise<Stored> {
  const idOf = ctx.idOf ?? ((item: T) => (item as { event_id?: string }).event_id ?? '?');
  let inserted = 0;
  const rejected: Array<{ id: string; error: string }> = [];
  for (const item of items) {
    try {
      inserted += await insert([item]);
    } catch (err) {
      if (!isDataError(err)) throw err;
      rejected.push({ id: idOf(item), error: (err as Error).message });
    }
  }
  if (rejected.length) {
    ctx.log.error({ jobId: ctx.job.id, rejected }, `${ctx.what} the database refused`);
    throw new UnrecoverableError(`database refused ${rejected.length} ${ctx.what}: ${JSON.stringify(rejected).slice(0, 1000)}`);
  }
  return { inserted, duplicates: items.length - inserted };
}

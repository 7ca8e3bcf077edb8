/**
 * What triage keeps that would otherwise only grow: the session marks that make session
 * counts exactly-once (a session is not re-sent after months), the hourly issue counters
 * past what the charts show, and chunks sentry-cli uploaded but never assembled.
 * Deletes in small batches so ingestion never waits on it.
 */
import type { DataSource } from 'typeorm';
import type { BlobStore } from '../../storage/blobStore.ts';

export interface TriagePruneOptions {
  /** Session marks older than this are dropped (default 90 days). */
  sessionMarkMaxAgeMs?: number;
  /** Hourly counters older than this are dropped (default 35 days; the chart shows 30). */
  hourlyMaxAgeMs?: number;
  /** Chunks not assembled within this are deleted (default 1 day). */
  chunkMaxAgeMs?: number;
  batchSize?: number;
}

const DAY = 86_400_000;

async function deleteInBatches(ds: DataSource, table: string, where: string, params: unknown[], batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const [, n]: [unknown, number] = await ds.query(
      `DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${where} LIMIT ${batch})`,
      params,
    );
    total += n;
    if (n < batch) return total;
  }
}

export async function pruneTriage(ds: DataSource, artifacts: BlobStore, opts: TriagePruneOptions = {}) {
  const batch = opts.batchSize ?? 1000;
  const now = Date.now();
  const marks = await deleteInBatches(
    ds,
    'session_marks',
    'created_at < $1',
    [new Date(now - (opts.sessionMarkMaxAgeMs ?? 90 * DAY))],
    batch,
  );
  const hourly = await deleteInBatches(ds, 'issue_hourly', 'bucket < $1', [new Date(now - (opts.hourlyMaxAgeMs ?? 35 * DAY))], batch);
  let chunks = 0;
  const cutoff = now - (opts.chunkMaxAgeMs ?? DAY);
  for await (const entry of artifacts.list('chunks/')) {
    if (entry.modifiedAt.getTime() <= cutoff && (await artifacts.delete(entry.key))) chunks++;
  }
  await artifacts.purgeIncomplete(opts.chunkMaxAgeMs ?? DAY);
  return { marks, hourly, chunks };
}

import { pipeline } from 'node:stream';
import type { DataSource } from 'typeorm';
import type { Logger } from '../../logger.ts';
import { StorageUnavailableError } from '../../storage/blobStore.ts';
import type { DumpStores } from '../../storage/index.ts';
import { BlockGzipWriter } from './blockGzip.ts';
import { openDumpBytes } from './bytes.ts';
import { archiveKey, liveKey } from './keys.ts';
import { DumpMeter } from './streams.ts';

export type ArchiveOutcome = 'archived' | 'resumed' | 'skipped' | 'failed';

export interface ArchiveContext {
  ds: DataSource;
  stores: DumpStores;
  log: Logger;
}

async function noteProblem(ds: DataSource, id: string, problem: string): Promise<void> {
  await ds.query(`UPDATE crash_dumps SET info = info || jsonb_build_object('archive_error', $2::text) WHERE id = $1`, [id, problem]);
}

/** sha256 of what a stored copy decompresses to. */
async function archivedDigest(stores: DumpStores, id: string): Promise<string | null> {
  try {
    const meter = new DumpMeter();
    const src = await openDumpBytes(stores, { id, archived: true });
    for await (const chunk of pipeline(src, meter, () => undefined)) void chunk;
    return meter.digest();
  } catch (err) {
    if (err instanceof StorageUnavailableError) throw err;
    return null;
  }
}

/**
 * Flags the row archived and removes the original, under the row lock. The original
 * goes *before* the commit: a crash in between leaves "original gone, row not yet
 * flagged", which the next run recognises and completes (resume), rather than an
 * archived row whose original lingers forever.
 */
async function commitArchived(ctx: ArchiveContext, id: string, sha256: string): Promise<'done' | 'changed' | 'already'> {
  return ctx.ds.transaction(async (em) => {
    const rows: Array<{ sha256: string; archived: boolean }> = await em.query(
      `SELECT sha256, archived FROM crash_dumps WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const row = rows[0];
    if (!row) return 'changed';
    if (row.archived) return 'already';
    if (row.sha256 !== sha256) return 'changed';
    await em.query(`UPDATE crash_dumps SET archived = true, archived_at = now(), info = info - 'archive_error' WHERE id = $1`, [id]);
    await ctx.stores.live.delete(liveKey(id));
    return 'done';
  });
}

/**
 * Moves one dump to the archive: gzip'd copy written and fsync'd, checked against the
 * recorded sha256, then the row flagged and the original removed. Safe to run twice,
 * concurrently, or after a crash at any point.
 */
export async function archiveDump(ctx: ArchiveContext, id: string): Promise<ArchiveOutcome> {
  const rows: Array<{ sha256: string; archived: boolean }> = await ctx.ds.query(`SELECT sha256, archived FROM crash_dumps WHERE id = $1`, [
    id,
  ]);
  const row = rows[0];
  if (!row || row.archived) return 'skipped';

  if (!(await ctx.stores.live.stat(liveKey(id)))) {
    // Resume: an earlier run removed the original after its copy was durable, then died before committing.
    const digest = await archivedDigest(ctx.stores, id);
    if (digest !== row.sha256) {
      await noteProblem(ctx.ds, id, digest === null ? 'the dump bytes are missing' : 'the archive copy does not match the dump checksum');
      return 'failed';
    }
    return (await commitArchived(ctx, id, row.sha256)) === 'done' ? 'resumed' : 'skipped';
  }

  const meter = new DumpMeter();
  const source = await openDumpBytes(ctx.stores, { id, archived: false });
  await ctx.stores.archive.put(
    archiveKey(id),
    pipeline(source, meter, new BlockGzipWriter(), () => undefined),
  );
  if (meter.digest() !== row.sha256) {
    await ctx.stores.archive.delete(archiveKey(id));
    // Replaced meanwhile (the next run archives the new bytes), or the file on disk is not what was uploaded.
    const now: Array<{ sha256: string }> = await ctx.ds.query(`SELECT sha256 FROM crash_dumps WHERE id = $1`, [id]);
    if (now[0]?.sha256 !== row.sha256) return 'skipped';
    await noteProblem(ctx.ds, id, 'the stored bytes do not match the upload checksum; not archived');
    return 'failed';
  }
  const outcome = await commitArchived(ctx, id, row.sha256);
  // Replaced or deleted while we copied: our copy is stale. ('already': another run won; its copy is ours too.)
  if (outcome === 'changed') await ctx.stores.archive.delete(archiveKey(id));
  return outcome === 'done' ? 'archived' : 'skipped';
}

export interface ArchiveRun {
  archived: number;
  resumed: number;
  skipped: number;
  failed: number;
}

/**
 * Archives every live dump uploaded more than `olderThanDays` ago (in `projectIds`, or
 * everywhere), oldest first. A
 * dump that fails is noted in its info and left for the next run; storage being
 * unavailable stops the run (the job retries).
 */
export async function archiveDueDumps(
  ctx: ArchiveContext,
  opts: { olderThanDays: number; batchSize?: number; projectIds?: number[] },
): Promise<ArchiveRun> {
  const run: ArchiveRun = { archived: 0, resumed: 0, skipped: 0, failed: 0 };
  if (opts.olderThanDays <= 0) return run;
  // The keyset position as PostgreSQL's own text, so no precision is lost on the way round.
  let after: { t: string; id: string } | null = null;
  for (;;) {
    const params: unknown[] = [opts.olderThanDays, opts.batchSize ?? 100, opts.projectIds ?? null];
    let keyset = '';
    if (after) {
      params.push(after.t, after.id);
      keyset = `AND ("time", id) > ($4::timestamptz, $5::uuid)`;
    }
    const due: Array<{ id: string; t: string }> = await ctx.ds.query(
      `SELECT id, "time"::text AS t FROM crash_dumps
        WHERE NOT archived AND "time" < now() - make_interval(days => $1)
          AND ($3::int[] IS NULL OR project_id = ANY($3::int[])) ${keyset}
        ORDER BY "time", id LIMIT $2`,
      params,
    );
    if (!due.length) return run;
    for (const { id } of due) {
      try {
        run[await archiveDump(ctx, id)]++;
      } catch (err) {
        if (err instanceof StorageUnavailableError) throw err;
        ctx.log.warn({ dump: id, err: (err as Error).message }, 'archiving a dump failed');
        run.failed++;
      }
    }
    after = due[due.length - 1];
  }
}

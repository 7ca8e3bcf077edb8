import type { DataSource } from 'typeorm';
import type { BlobStore } from '../../storage/blobStore.ts';
import type { DumpStores } from '../../storage/index.ts';
import { idOfKey, SHARD_PREFIXES } from './keys.ts';
import { deleteDump } from './manage.ts';

/**
 * Anything younger than this is left alone by the sweep: an upload renames its file
 * into place a few milliseconds before its row commits, and an archive copy lands just
 * before its row is flagged.
 */
export const ORPHAN_GRACE_MS = 60 * 60 * 1000;

export interface RetentionContext {
  ds: DataSource;
  stores: DumpStores;
}

/**
 * Deletes dumps (bytes and rows, live or archived) uploaded longer ago than their
 * project's retention_days. Each dump is deleted on its own, so a crash mid-run loses
 * nothing: the next run picks up where this one stopped.
 */
export async function expireDumps(ctx: RetentionContext, opts: { batchSize?: number; projectIds?: number[] } = {}): Promise<number> {
  let deleted = 0;
  for (;;) {
    const due: Array<{ id: string }> = await ctx.ds.query(
      `SELECT d.id FROM crash_dumps d JOIN projects p ON p.id = d.project_id
        WHERE d."time" < now() - make_interval(days => p.retention_days)
          AND ($2::int[] IS NULL OR d.project_id = ANY($2::int[]))
        ORDER BY d."time" LIMIT $1`,
      [opts.batchSize ?? 100, opts.projectIds ?? null],
    );
    if (!due.length) return deleted;
    for (const { id } of due) if (await deleteDump(ctx.ds, ctx.stores, id)) deleted++;
  }
}

async function sweepStore(ds: DataSource, store: BlobStore, kind: 'live' | 'archive', graceMs: number): Promise<number> {
  let removed = 0;
  const cutoff = Date.now() - graceMs;
  for (const prefix of SHARD_PREFIXES) {
    const candidates = new Map<string, string>(); // dump id → key
    for await (const entry of store.list(prefix)) {
      if (entry.modifiedAt.getTime() > cutoff) continue;
      const id = idOfKey(entry.key, kind);
      // Keys outside the layout are not ours to judge; unreferenced layout keys are leftovers.
      if (id) candidates.set(id, entry.key);
    }
    if (!candidates.size) continue;
    const ids = [...candidates.keys()];
    // A live file is referenced by a live row; an archive copy by any row (a replaced archived dump drops it after commit).
    const known: Array<{ id: string }> = await ds.query(
      `SELECT id::text FROM crash_dumps WHERE id::text = ANY($1::text[])${kind === 'live' ? ' AND NOT archived' : ''}`,
      [ids],
    );
    const keep = new Set(known.map((r) => r.id));
    for (const [id, key] of candidates) {
      if (keep.has(id)) continue;
      if (await store.delete(key)) removed++;
    }
  }
  return removed;
}

/**
 * Removes bytes no row points to: files of dumps whose project was deleted (rows go by
 * cascade, files cannot), leftovers of a crash between a rename and its commit, and
 * temp files of interrupted uploads.
 */
export async function sweepOrphans(ctx: RetentionContext, opts: { graceMs?: number } = {}): Promise<number> {
  const grace = opts.graceMs ?? ORPHAN_GRACE_MS;
  let removed = 0;
  removed += await ctx.stores.live.purgeIncomplete(grace);
  removed += await ctx.stores.archive.purgeIncomplete(grace);
  removed += await sweepStore(ctx.ds, ctx.stores.live, 'live', grace);
  removed += await sweepStore(ctx.ds, ctx.stores.archive, 'archive', grace);
  return removed;
}

/** Dumps still waiting for post-processing long after upload: their job was never queued, or was lost. */
export async function stalePending(ds: DataSource, olderThanMinutes = 30): Promise<Array<{ id: string; sha256: string }>> {
  return ds.query(
    `SELECT id, sha256 FROM crash_dumps
      WHERE info->>'status' = 'pending' AND updated_at < now() - make_interval(mins => $1)
      ORDER BY "time" LIMIT 100`,
    [olderThanMinutes],
  );
}

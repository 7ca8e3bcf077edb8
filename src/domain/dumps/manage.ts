import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { BlobNotFoundError } from '../../storage/blobStore.ts';
import type { DumpStores } from '../../storage/index.ts';
import { storageFailure } from './bytes.ts';
import { cleanName, initialFacts, type StagedDump } from './ingest.ts';
import { archiveKey, liveKey } from './keys.ts';
import { DUMP_COLUMNS, findDump, type DumpRow } from './query.ts';

/**
 * Changes to a dump's bytes happen under its row lock (SELECT … FOR UPDATE): a replace,
 * a delete, the archiver's final step and retention never interleave on one dump.
 */

export interface FileChanges {
  originalName: string;
  contentType?: string | null;
  /** undefined: keep the label. */
  label?: string | null;
}

/**
 * PUT/PATCH with a file: the new bytes (already staged under their own uuid) take the
 * dump's place; id, time and project stay. The old file is first moved aside, so a
 * failure before the row commits puts everything back as it was.
 */
export async function replaceDumpFile(
  ds: DataSource,
  stores: DumpStores,
  id: string,
  staged: StagedDump,
  changes: FileChanges,
): Promise<DumpRow | null> {
  const key = liveKey(id);
  const aside = liveKey(randomUUID()); // an unreferenced key: the orphan sweep removes it if we die mid-way
  let movedOld = false;
  let movedNew = false;
  let wasArchived = false;
  let row: DumpRow | null;
  try {
    row = await ds.transaction(async (em) => {
      const current = await findDump(em, id, { lock: true });
      if (!current) return null;
      wasArchived = current.archived;
      if (!current.archived) {
        try {
          await stores.live.move(key, aside);
          movedOld = true;
        } catch (err) {
          if (!(err instanceof BlobNotFoundError)) throw err; // already missing: nothing to keep
        }
      }
      await stores.live.move(liveKey(staged.id), key);
      movedNew = true;
      const { contentType, info } = initialFacts(staged, changes.contentType);
      // TypeORM answers an UPDATE with [rows, rowCount].
      const [rows]: [DumpRow[], number] = await em.query(
        `UPDATE crash_dumps
            SET original_name = $2, size = $3, sha256 = $4, content_type = $5, info = $6,
                archived = false, archived_at = NULL, updated_at = now(),
                label = CASE WHEN $7 THEN $8 ELSE label END
          WHERE id = $1
         RETURNING ${DUMP_COLUMNS}`,
        [
          id,
          cleanName(changes.originalName),
          staged.size,
          staged.sha256,
          contentType,
          info,
          changes.label !== undefined,
          changes.label ?? null,
        ],
      );
      return rows[0];
    });
  } catch (err) {
    if (movedNew) await stores.live.move(key, liveKey(staged.id)).catch(() => undefined);
    if (movedOld) await stores.live.move(aside, key).catch(() => undefined);
    await staged.discard();
    throw storageFailure(err);
  }
  if (!row) {
    await staged.discard();
    return null;
  }
  // Committed: what is left of the old version goes. A failure here only leaves garbage for the sweep.
  if (movedOld) await stores.live.delete(aside).catch(() => undefined);
  if (wasArchived) await stores.archive.delete(archiveKey(id)).catch(() => undefined);
  return row;
}

export async function updateDumpLabel(ds: DataSource, id: string, label: string | null): Promise<DumpRow | null> {
  const [rows]: [DumpRow[], number] = await ds.query(
    `UPDATE crash_dumps SET label = $2, updated_at = now() WHERE id = $1 RETURNING ${DUMP_COLUMNS}`,
    [id, label],
  );
  return rows[0] ?? null;
}

/**
 * Removes the bytes (live and archive copies: a crash mid-archive can leave either),
 * then the row, in one transaction. If the process dies in between, the row survives
 * and the next attempt (or retention) finishes the job.
 */
export async function deleteDump(ds: DataSource, stores: DumpStores, id: string): Promise<boolean> {
  try {
    return await ds.transaction(async (em) => {
      const current = await findDump(em, id, { lock: true });
      if (!current) return false;
      await stores.live.delete(liveKey(id));
      await stores.archive.delete(archiveKey(id));
      await em.query(`DELETE FROM crash_dumps WHERE id = $1`, [id]);
      return true;
    });
  } catch (err) {
    throw storageFailure(err);
  }
}

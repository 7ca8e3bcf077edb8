import type { DataSource } from 'typeorm';

const BATCH_SIZE = 5000;

/**
 * Deletes spans that started longer ago than their project's `retention_days`, project by
 * project in small batches (each an index range on (project_id, start_time)), so no long
 * lock is held and a run that is retried or overlaps another just deletes what is left.
 */
export async function expireSpans(ds: DataSource, opts: { batchSize?: number; now?: Date } = {}): Promise<number> {
  const batchSize = opts.batchSize ?? BATCH_SIZE;
  const now = opts.now ?? new Date();
  const projects: Array<{ id: number; retention_days: number }> = await ds.query(`SELECT id, retention_days FROM projects ORDER BY id`);
  let deleted = 0;
  for (const p of projects) {
    const cutoff = new Date(now.getTime() - p.retention_days * 86_400_000);
    for (;;) {
      const [, count]: [unknown[], number] = await ds.query(
        `DELETE FROM spans WHERE id IN (SELECT id FROM spans WHERE project_id = $1 AND start_time < $2 LIMIT $3)`,
        [p.id, cutoff, batchSize],
      );
      deleted += count;
      if (count < batchSize) break;
    }
  }
  return deleted;
}

import type { DataSource } from 'typeorm';

const DAY = 86_400_000;

/**
 * Outcome rows past `retentionDays` are deleted, a batch at a time (the table is small —
 * one row per project, hour, category, outcome and reason — but it only grows).
 * Run by the housekeeping worker with the triage prune (TRIAGE_PRUNE_SCHEDULE).
 */
export async function pruneOutcomes(ds: DataSource, retentionDays: number, batch = 5000, now = Date.now()): Promise<number> {
  const cutoff = new Date(now - retentionDays * DAY).toISOString();
  let total = 0;
  for (;;) {
    const [, n]: [unknown, number] = await ds.query(
      `DELETE FROM outcomes WHERE id IN (SELECT id FROM outcomes WHERE hour < $1 LIMIT ${Math.trunc(batch)})`,
      [cutoff],
    );
    total += n;
    if (n < batch) return total;
  }
}

import type { DataSource } from 'typeorm';
import type { AlertJobs } from './jobs.ts';

/** A pending notification older than this with no job is a crash's leftover. */
export const PENDING_GRACE_MS = 60_000;

/**
 * Notifications recorded but never queued (a worker died between its commit and the
 * enqueue, or Redis refused) are queued again. Job ids are the notifications', so one
 * still queued, waiting for a retry or a digest's end is not queued twice.
 */
export async function requeuePending(ds: DataSource, jobs: AlertJobs, limit = 1000): Promise<number> {
  const rows: Array<{ id: string; due_at: Date | null }> = await ds.query(
    `SELECT n.id, d.due_at FROM alert_notifications n LEFT JOIN alert_digests d ON d.id = n.digest_id
      WHERE n.status = 'pending' AND n.created_at < now() - make_interval(secs => $1) ORDER BY n.created_at LIMIT $2`,
    [PENDING_GRACE_MS / 1000, limit],
  );
  if (!rows.length) return 0;
  const existing = await jobs.queued(rows.map((r) => r.id));
  const missing = rows.filter((_, i) => !existing[i]);
  await jobs.deliver(
    missing.map((r) => ({ notificationId: r.id, delayMs: r.due_at ? Math.max(0, r.due_at.getTime() - Date.now()) : 0 })),
  );
  return missing.length;
}

/** Handled signals are kept a day (to look at), then deleted in bounded batches. */
export async function pruneSignals(ds: DataSource, keepMs = 86_400_000, batch = 5000): Promise<number> {
  const [, n]: [unknown, number] = await ds.query(
    `DELETE FROM alert_signals WHERE id IN (SELECT id FROM alert_signals WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2)`,
    [keepMs / 1000, batch],
  );
  return n;
}

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
  await jobs.deliver(missing.map((r) => ({ notificationId: r.id, delayMs: r.due_at ? Math.max(0, r.due_at.getTime() - Date.now()) : 0 })));
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

export interface AlertPruneResult {
  notifications: number;
  firings: number;
  digests: number;
  checkins: number;
}

/**
 * Alert history past its retention, deleted in bounded batches (each its own statement, so
 * no long lock). Kept whatever their age: notifications still pending (and their firing or
 * digest), a firing a rule's state still points at (the "above threshold since" it shows),
 * open digests, and each monitor's latest check-in (what its status was computed from).
 * Deliveries go with their notification (ON DELETE CASCADE).
 */
export async function pruneAlertHistory(ds: DataSource, days: number, batch = 5000): Promise<AlertPruneResult> {
  const cutoff = [days * 86_400];
  const loop = async (sql: string): Promise<number> => {
    let total = 0;
    for (;;) {
      const [, n]: [unknown, number] = await ds.query(sql, [...cutoff, batch]);
      total += n;
      if (n < batch) return total;
    }
  };
  const notifications = await loop(
    `DELETE FROM alert_notifications WHERE id IN (
       SELECT id FROM alert_notifications WHERE status <> 'pending' AND created_at < now() - make_interval(secs => $1) LIMIT $2)`,
  );
  const firings = await loop(
    `DELETE FROM alert_firings WHERE id IN (
       SELECT f.id FROM alert_firings f WHERE f.created_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM alert_notifications n WHERE n.firing_id = f.id)
          AND NOT EXISTS (SELECT 1 FROM alert_rule_states s WHERE s.firing_id = f.id)
        LIMIT $2)`,
  );
  const digests = await loop(
    `DELETE FROM alert_digests WHERE id IN (
       SELECT d.id FROM alert_digests d WHERE d.closed_at IS NOT NULL AND d.period_start < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM alert_notifications n WHERE n.digest_id = d.id)
        LIMIT $2)`,
  );
  const checkins = await loop(
    `DELETE FROM monitor_checkins WHERE id IN (
       SELECT c.id FROM monitor_checkins c WHERE c.started_at < now() - make_interval(secs => $1)
          AND c.id <> (SELECT l.id FROM monitor_checkins l WHERE l.monitor_id = c.monitor_id ORDER BY l.started_at DESC, l.id DESC LIMIT 1)
        LIMIT $2)`,
  );
  return { notifications, firings, digests, checkins };
}

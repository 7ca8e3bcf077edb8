import type { DataSource } from 'typeorm';
import type { Sql } from '../../db/sql.ts';
import type { Filters, Trigger } from './definitions.ts';
import type { FiringPayload } from './messages.ts';
import { inTransaction, type Q } from './tx.ts';
import type { AlertJobs, Outgoing } from './jobs.ts';

/** A rule as the workers read it (snake_case, straight from SQL). */
export interface RuleRow {
  id: number;
  project_id: number;
  name: string;
  trigger: Trigger;
  params: Record<string, unknown>;
  filters: Filters;
  channel_ids: number[];
  cooldown_minutes: number;
  digest_minutes: number;
  snoozed_until: Date | null;
  enabled: boolean;
}

export const RULE_COLUMNS = `id, project_id, name, trigger, params, filters, channel_ids, cooldown_minutes, digest_minutes, snoozed_until, enabled`;

export interface FiringInput {
  projectId: number;
  /** null: a test notification, sent to `channelIds`. */
  rule: RuleRow | null;
  trigger: Trigger | 'test';
  /** Unique per rule: recording the same key twice is a no-op (re-delivered jobs, overlapping runs). */
  triggerKey: string;
  /** What the cooldown is per (an issue id, a model, a monitor); '_' for the rule as a whole. */
  subject?: string;
  kind: 'firing' | 'recovered' | 'test';
  windowStart?: Date | null;
  windowEnd?: Date | null;
  value?: number | null;
  threshold?: number | null;
  payload: FiringPayload;
  channelIds?: number[];
  /** Record it, send nothing (e.g. the recovery of a firing that was itself not sent). */
  quiet?: boolean;
  now?: Date;
}

export interface Recorded {
  firingId: string;
  created: boolean;
  status: string;
  outgoing: Outgoing[];
}

async function liveChannels(q: Q, projectId: number, ids: number[]): Promise<number[]> {
  if (!ids.length) return [];
  const { rows } = await q.query<{ id: number }>(
    `SELECT id FROM alert_channels WHERE project_id = $1 AND id = ANY($2::int[]) AND enabled ORDER BY id`,
    [projectId, ids],
  );
  return rows.map((r) => r.id);
}

/** The open digest for the rule's current period (or the next one, if this one was just sent), locked. */
async function openDigest(q: Q, rule: RuleRow, now: Date): Promise<{ id: string; dueAt: Date; created: boolean }> {
  const periodMs = rule.digest_minutes * 60_000;
  let start = Math.floor(now.getTime() / periodMs) * periodMs;
  for (;;) {
    const ins = await q.query<{ id: string }>(
      `INSERT INTO alert_digests (project_id, rule_id, period_start, due_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (rule_id, period_start) DO NOTHING RETURNING id`,
      [rule.project_id, rule.id, new Date(start), new Date(start + periodMs)],
    );
    const { rows } = await q.query<{ id: string; due_at: Date; closed_at: Date | null }>(
      `SELECT id, due_at, closed_at FROM alert_digests WHERE rule_id = $1 AND period_start = $2 FOR UPDATE`,
      [rule.id, new Date(start)],
    );
    if (!rows[0].closed_at) return { id: rows[0].id, dueAt: rows[0].due_at, created: ins.rows.length > 0 };
    start += periodMs; // already sent: this firing goes into the next one
  }
}

/**
 * Records a firing — before anything is sent — and the notifications it needs, inside
 * the caller's transaction. Idempotent on (rule, trigger key): when the firing already
 * exists (a re-delivered job, a crash after the commit), its still-pending notifications
 * are answered again so the caller re-enqueues them (jobs are deduplicated by id).
 *
 * What happens to a new firing, in order: a snoozed rule, or `quiet`, records it
 * (`snoozed`/`suppressed`); a message about the same subject within the cooldown is
 * `suppressed`; no enabled channel is `no_channels`; a digest rule adds it to the open
 * digest (`digested`); otherwise one notification per channel (`notified`).
 */
export async function recordFiring(q: Q, f: FiringInput): Promise<Recorded> {
  const now = f.now ?? new Date();
  const rule = f.rule;
  const subject = (f.subject ?? '_').slice(0, 200);
  // One rule's firings are decided one at a time: the cooldown check and the insert must not interleave.
  if (rule) await q.query(`SELECT pg_advisory_xact_lock(hashtext('faultline.alert_rule'), $1)`, [rule.id]);

  if (rule) {
    const existing = await q.query<{ id: string; status: string }>(
      `SELECT id, status FROM alert_firings WHERE rule_id = $1 AND trigger_key = $2`,
      [rule.id, f.triggerKey],
    );
    if (existing.rows[0])
      return {
        firingId: existing.rows[0].id,
        created: false,
        status: existing.rows[0].status,
        outgoing: await pendingOf(q, existing.rows[0].id),
      };
  }

  const channels = await liveChannels(q, f.projectId, rule ? rule.channel_ids : (f.channelIds ?? []));
  let status: 'notified' | 'digested' | 'suppressed' | 'snoozed' | 'no_channels' = 'notified';
  if (rule && rule.snoozed_until && rule.snoozed_until > now) status = 'snoozed';
  else if (f.quiet) status = 'suppressed';
  else if (rule && rule.cooldown_minutes > 0 && f.kind === 'firing') {
    const recent = await q.query(
      `SELECT 1 FROM alert_firings WHERE rule_id = $1 AND subject = $2 AND kind = 'firing' AND status IN ('notified', 'digested') AND created_at > $3 LIMIT 1`,
      [rule.id, subject, new Date(now.getTime() - rule.cooldown_minutes * 60_000)],
    );
    if (recent.rows.length) status = 'suppressed';
  }
  if (status === 'notified' && !channels.length) status = 'no_channels';
  if (status === 'notified' && rule && rule.digest_minutes > 0) status = 'digested';

  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO alert_firings (project_id, rule_id, trigger, trigger_key, subject, kind, status, window_start, window_end, value, threshold, payload, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     RETURNING id`,
    [
      f.projectId,
      rule?.id ?? null,
      f.trigger,
      f.triggerKey.slice(0, 300),
      subject,
      f.kind,
      status,
      f.windowStart ?? null,
      f.windowEnd ?? null,
      f.value ?? null,
      f.threshold ?? null,
      JSON.stringify(f.payload),
      now,
    ],
  );
  const firingId = rows[0].id;
  const outgoing: Outgoing[] = [];
  if (status === 'notified') {
    const ins = await q.query<{ id: string }>(
      `INSERT INTO alert_notifications (project_id, channel_id, firing_id) SELECT $1, unnest($2::int[]), $3 RETURNING id`,
      [f.projectId, channels, firingId],
    );
    for (const r of ins.rows) outgoing.push({ notificationId: r.id, delayMs: 0 });
  } else if (status === 'digested') {
    const digest = await openDigest(q, rule!, now);
    await q.query(`UPDATE alert_firings SET digest_id = $2 WHERE id = $1`, [firingId, digest.id]);
    // The digest's first firing creates its notifications; later ones only join it.
    const ins = await q.query<{ id: string }>(
      `INSERT INTO alert_notifications (project_id, channel_id, digest_id) SELECT $1, unnest($2::int[]), $3
       ON CONFLICT (digest_id, channel_id) DO NOTHING RETURNING id`,
      [f.projectId, channels, digest.id],
    );
    for (const r of ins.rows) outgoing.push({ notificationId: r.id, delayMs: Math.max(0, digest.dueAt.getTime() - now.getTime()) });
  }
  return { firingId, created: true, status, outgoing };
}

async function pendingOf(q: Q, firingId: string): Promise<Outgoing[]> {
  const { rows } = await q.query<{ id: string; due_at: Date | null }>(
    `SELECT n.id, d.due_at FROM alert_notifications n
       LEFT JOIN alert_firings f ON f.id = $1
       LEFT JOIN alert_digests d ON d.id = n.digest_id
      WHERE n.status = 'pending' AND (n.firing_id = $1 OR (n.digest_id IS NOT NULL AND n.digest_id = f.digest_id))`,
    [firingId],
  );
  return rows.map((r) => ({ notificationId: r.id, delayMs: r.due_at ? Math.max(0, r.due_at.getTime() - Date.now()) : 0 }));
}

/** recordFiring in a transaction of its own, then enqueue what it made. */
export async function fire(ds: DataSource, jobs: AlertJobs, f: FiringInput): Promise<Recorded> {
  const recorded = await inTransaction(ds, (q) => recordFiring(q, f));
  await jobs.deliver(recorded.outgoing);
  return recorded;
}

/** Enabled rules of a project for some triggers. */
export async function rulesFor(q: Q | Sql, projectId: number, triggers: Trigger[]): Promise<RuleRow[]> {
  const { rows } = await q.query<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE project_id = $1 AND trigger = ANY($2::text[]) AND enabled ORDER BY id`,
    [projectId, triggers],
  );
  return rows;
}

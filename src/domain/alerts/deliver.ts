import type { DataSource } from 'typeorm';
import { sqlOf } from '../../db/sql.ts';
import type { ChannelConfig, ChannelType } from '../../entities/AlertChannel.ts';
import { recipientsOf, readSecrets } from './channels.ts';
import type { HttpLimits } from './http.ts';
import { messageFor, type FiringPayload, type FiringSummary, type Message } from './messages.ts';
import { send, type SendResult } from './senders.ts';

interface NotificationRow {
  id: string;
  project_id: number;
  channel_id: number;
  firing_id: string | null;
  digest_id: string | null;
  idempotency_key: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  channel_type: ChannelType;
  channel_config: ChannelConfig;
  channel_enabled: boolean;
  project_name: string;
}

interface FiringRow {
  id: string;
  rule_id: number | null;
  trigger: string;
  trigger_key: string;
  kind: 'firing' | 'recovered' | 'test';
  window_start: Date | null;
  window_end: Date | null;
  value: number | null;
  threshold: number | null;
  payload: FiringPayload;
  created_at: Date;
}

const summary = (f: FiringRow): FiringSummary => ({
  ...f.payload,
  id: f.id,
  trigger: f.trigger,
  trigger_key: f.trigger_key,
  kind: f.kind,
  window_start: f.window_start?.toISOString() ?? null,
  window_end: f.window_end?.toISOString() ?? null,
  value: f.value,
  threshold: f.threshold,
  created_at: f.created_at.toISOString(),
});

const FIRING_COLUMNS = `id, rule_id, trigger, trigger_key, kind, window_start, window_end, value, threshold, payload, created_at`;
const DIGEST_MAX = 200;

/** The message a notification sends: the same on every attempt (a digest is frozen when it is first sent). */
async function messageOf(ds: DataSource, n: NotificationRow): Promise<Message | null> {
  let firings: FiringRow[];
  let digest: { total: number; minutes: number } | null = null;
  let ruleId: number | null;
  if (n.firing_id) {
    firings = await ds.query(`SELECT ${FIRING_COLUMNS} FROM alert_firings WHERE id = $1`, [n.firing_id]);
    if (!firings[0]) return null;
    ruleId = firings[0].rule_id;
  } else {
    // Closing the digest takes its row lock, which every firing joining it holds until it commits:
    // after this, the digest's firings are all there and no more can join.
    const {
      rows: [d],
    } = await sqlOf(ds).query<{ rule_id: number }>(
      `UPDATE alert_digests SET closed_at = coalesce(closed_at, now()) WHERE id = $1 RETURNING rule_id`,
      [n.digest_id],
    );
    if (!d) return null;
    ruleId = d.rule_id;
    firings = await ds.query(`SELECT ${FIRING_COLUMNS} FROM alert_firings WHERE digest_id = $1 ORDER BY id LIMIT ${DIGEST_MAX}`, [
      n.digest_id,
    ]);
    const [{ total }] = await ds.query(`SELECT count(*)::int AS total FROM alert_firings WHERE digest_id = $1`, [n.digest_id]);
    digest = { total, minutes: 0 };
  }
  let rule: Message['rule'] = null;
  if (ruleId !== null) {
    const [r]: Array<{ id: number; name: string; trigger: string; digest_minutes: number }> = await ds.query(
      `SELECT id, name, trigger, digest_minutes FROM alert_rules WHERE id = $1`,
      [ruleId],
    );
    if (r) {
      rule = { id: r.id, name: r.name, trigger: r.trigger };
      if (digest) digest.minutes = r.digest_minutes;
    }
  }
  if (!firings.length) return null;
  return messageFor({
    idempotencyKey: n.idempotency_key,
    project: { id: n.project_id, name: n.project_name },
    rule,
    firings: firings.map(summary),
    digest,
  });
}

export type DeliveryVerdict =
  { done: true; outcome: 'sent' | 'failed' | 'skipped'; detail?: string } | { done: false; retryAfterMs: number | null; error: string };

/**
 * One attempt at one notification: render, send, and write the attempt to the delivery
 * log (time, status code, latency, error). Already sent or failed: nothing to do (a
 * re-delivered job). `lastAttempt`: a retryable failure is final now.
 *
 * The one duplicate this cannot rule out: a worker that dies after the receiver got the
 * request but before the answer was recorded sends it again on the retry — with the same
 * Idempotency-Key, so the receiver can drop it.
 */
export async function deliverNotification(
  ds: DataSource,
  notificationId: string,
  opts: { attempt: number; lastAttempt: boolean; limits?: HttpLimits },
): Promise<DeliveryVerdict> {
  const [n]: NotificationRow[] = await ds.query(
    `SELECT n.id, n.project_id, n.channel_id, n.firing_id, n.digest_id, n.idempotency_key, n.status, n.attempts,
            c.type AS channel_type, c.config AS channel_config, c.enabled AS channel_enabled, p.name AS project_name
       FROM alert_notifications n JOIN alert_channels c ON c.id = n.channel_id JOIN projects p ON p.id = n.project_id
      WHERE n.id = $1`,
    [notificationId],
  );
  if (!n) return { done: true, outcome: 'skipped', detail: 'notification gone (its channel or project was deleted)' };
  if (n.status !== 'pending') return { done: true, outcome: 'skipped', detail: `already ${n.status}` };
  const message = await messageOf(ds, n);
  if (!message) {
    await ds.query(`UPDATE alert_notifications SET status = 'failed', last_error = $2, updated_at = now() WHERE id = $1`, [
      n.id,
      'nothing to send (firing deleted)',
    ]);
    return { done: true, outcome: 'failed', detail: 'nothing to send' };
  }

  const startedAt = new Date();
  const started = process.hrtime.bigint();
  let result: SendResult;
  if (!n.channel_enabled) {
    result = { outcome: 'failed', statusCode: null, error: 'channel is disabled', retryAfterMs: null };
  } else {
    const secrets = n.channel_type === 'email' ? {} : await readSecrets(ds, n.channel_id);
    const recipients =
      n.channel_type === 'email' ? await recipientsOf(ds, { projectId: n.project_id, config: n.channel_config }) : undefined;
    try {
      result = await send({ type: n.channel_type, url: secrets.url, secret: secrets.secret, recipients }, message, opts.limits);
    } catch (err) {
      result = { outcome: 'retry', statusCode: null, error: (err as Error).message, retryAfterMs: null };
    }
  }
  const latencyMs = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const outcome = result.outcome === 'retry' && opts.lastAttempt ? 'failed' : result.outcome;

  await ds.query(
    `INSERT INTO alert_deliveries (project_id, channel_id, notification_id, attempt, started_at, latency_ms, status_code, outcome, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      n.project_id,
      n.channel_id,
      n.id,
      opts.attempt,
      startedAt,
      latencyMs,
      result.statusCode,
      outcome,
      result.error?.slice(0, 2000) ?? null,
    ],
  );
  await ds.query(
    `UPDATE alert_notifications SET attempts = attempts + 1, updated_at = now(),
            status = CASE $2::text WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed' ELSE status END,
            sent_at = CASE $2::text WHEN 'sent' THEN now() ELSE sent_at END,
            last_error = $3
      WHERE id = $1`,
    [n.id, outcome, result.error?.slice(0, 2000) ?? null],
  );
  if (outcome === 'retry') return { done: false, retryAfterMs: result.retryAfterMs, error: result.error ?? 'retry' };
  return { done: true, outcome, detail: result.error ?? undefined };
}

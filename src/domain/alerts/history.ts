import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { notFound } from '../errors.ts';
import type { Access, Actor } from '../access/index.ts';
import { channelFor } from './channels.ts';
import { fire } from './firings.ts';
import { links } from './links.ts';
import type { FiringPayload } from './messages.ts';
import type { AlertJobs } from './jobs.ts';

interface FiringRow {
  id: string;
  project_id: number;
  rule_id: number | null;
  trigger: string;
  trigger_key: string;
  subject: string;
  kind: string;
  status: string;
  window_start: Date | null;
  window_end: Date | null;
  value: number | null;
  threshold: number | null;
  digest_id: string | null;
  payload: FiringPayload;
  created_at: Date;
}

interface NotificationRow {
  id: string;
  channel_id: number;
  firing_id: string | null;
  digest_id: string | null;
  idempotency_key: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

export interface DeliveryRow {
  id: string;
  notification_id: string;
  channel_id: number;
  attempt: number;
  started_at: Date;
  latency_ms: number | null;
  status_code: number | null;
  outcome: string;
  error: string | null;
}

export const serializeDelivery = (d: DeliveryRow) => ({
  id: d.id,
  notification: d.notification_id,
  channel: d.channel_id,
  attempt: d.attempt,
  started_at: d.started_at.toISOString(),
  latency_ms: d.latency_ms,
  status_code: d.status_code,
  outcome: d.outcome,
  error: d.error,
});

const DELIVERY_COLUMNS = `id, notification_id, channel_id, attempt, started_at, latency_ms, status_code, outcome, error`;

/** Firings with their notifications, each with its delivery attempts. */
async function withDeliveries(ds: DataSource, firings: FiringRow[]) {
  const ids = firings.map((f) => f.id);
  const digests = firings.map((f) => f.digest_id).filter((d): d is string => d !== null);
  const notifications: NotificationRow[] = ids.length
    ? await ds.query(
        `SELECT id, channel_id, firing_id, digest_id, idempotency_key, status, attempts, last_error, created_at, sent_at FROM alert_notifications
          WHERE firing_id = ANY($1::bigint[]) OR digest_id = ANY($2::bigint[]) ORDER BY id`,
        [ids, digests],
      )
    : [];
  const deliveries: DeliveryRow[] = notifications.length
    ? await ds.query(`SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE notification_id = ANY($1::bigint[]) ORDER BY id`, [
        notifications.map((n) => n.id),
      ])
    : [];
  const attemptsOf = new Map<string, DeliveryRow[]>();
  for (const d of deliveries) attemptsOf.set(d.notification_id, [...(attemptsOf.get(d.notification_id) ?? []), d]);
  return firings.map((f) => ({
    id: f.id,
    project: f.project_id,
    rule: f.rule_id,
    trigger: f.trigger,
    trigger_key: f.trigger_key,
    subject: f.subject,
    kind: f.kind,
    status: f.status,
    window_start: f.window_start?.toISOString() ?? null,
    window_end: f.window_end?.toISOString() ?? null,
    value: f.value,
    threshold: f.threshold,
    title: f.payload.title,
    text: f.payload.text,
    url: f.payload.url,
    created_at: f.created_at.toISOString(),
    notifications: notifications
      .filter((n) => n.firing_id === f.id || (n.digest_id !== null && n.digest_id === f.digest_id))
      .map((n) => ({
        id: n.id,
        channel: n.channel_id,
        digest: n.digest_id !== null,
        status: n.status,
        attempts: n.attempts,
        idempotency_key: n.idempotency_key,
        last_error: n.last_error,
        created_at: n.created_at.toISOString(),
        sent_at: n.sent_at?.toISOString() ?? null,
        deliveries: (attemptsOf.get(n.id) ?? []).map(serializeDelivery),
      })),
  }));
}

const FIRING_COLUMNS = `id, project_id, rule_id, trigger, trigger_key, subject, kind, status, window_start, window_end, value, threshold, digest_id, payload, created_at`;

export interface FiringFilters {
  rule?: number;
  status?: string;
  kind?: string;
}

export async function listFirings(
  access: Access,
  actor: Actor,
  projectId: number,
  f: FiringFilters,
  page: { limit: number; offset: number },
) {
  const { ds } = access;
  await access.authorize(actor, projectId, 'view');
  const params: unknown[] = [projectId];
  const where = ['project_id = $1'];
  if (f.rule !== undefined) where.push(`rule_id = $${params.push(f.rule)}`);
  if (f.status !== undefined) where.push(`status = $${params.push(f.status)}`);
  if (f.kind !== undefined) where.push(`kind = $${params.push(f.kind)}`);
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM alert_firings WHERE ${where.join(' AND ')}`, params);
  const rows: FiringRow[] = await ds.query(
    `SELECT ${FIRING_COLUMNS} FROM alert_firings WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, page.limit, page.offset],
  );
  return { count: n as number, results: await withDeliveries(ds, rows) };
}

export async function firingFor(access: Access, actor: Actor, projectId: number, firingId: string) {
  const { ds } = access;
  await access.authorize(actor, projectId, 'view');
  const rows: FiringRow[] = /^\d{1,18}$/.test(firingId)
    ? await ds.query(`SELECT ${FIRING_COLUMNS} FROM alert_firings WHERE id = $1 AND project_id = $2`, [firingId, projectId])
    : [];
  if (!rows[0]) throw notFound('Alert firing not found');
  return (await withDeliveries(ds, rows))[0];
}

/** The delivery log of one channel, newest first. */
export async function channelDeliveries(
  access: Access,
  actor: Actor,
  projectId: number,
  channelId: number,
  page: { limit: number; offset: number },
) {
  const { ds } = access;
  const channel = await channelFor(access, actor, projectId, channelId, 'view');
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM alert_deliveries WHERE channel_id = $1`, [channel.id]);
  const rows: DeliveryRow[] = await ds.query(
    `SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE channel_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3`,
    [channel.id, page.limit, page.offset],
  );
  return { count: n as number, results: rows.map(serializeDelivery) };
}

/**
 * "Send test notification": a firing of kind `test` for this one channel, through the
 * same queue, retries and delivery log as a real one. Answers the firing (with its
 * notification), recorded before anything is sent.
 */
export async function sendTestNotification(access: Access, jobs: AlertJobs, actor: Actor, projectId: number, channelId: number) {
  const { ds } = access;
  const channel = await channelFor(access, actor, projectId, channelId, 'manage_alerts');
  const [project]: Array<{ name: string }> = await ds.query(`SELECT name FROM projects WHERE id = $1`, [projectId]);
  const recorded = await fire(ds, jobs, {
    projectId,
    rule: null,
    trigger: 'test',
    triggerKey: `test:${randomUUID()}`,
    kind: 'test',
    channelIds: [channel.id],
    payload: {
      title: `Test notification from Faultline`,
      text: `If you can read this, alerts of “${project?.name ?? projectId}” reach the ${channel.type} channel “${channel.name}”.`,
      url: links.channel(channel.id),
      facts: [{ label: 'Channel', value: `${channel.name} (${channel.type})` }],
    },
  });
  return firingFor(access, actor, projectId, recorded.firingId);
}

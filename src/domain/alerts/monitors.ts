import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { Monitor } from '../../entities/Monitor.ts';
import { conflict, notFound } from '../errors.ts';
import type { Access, Actor } from '../access/index.ts';
import { MONITOR_SLUG } from './checkInRecord.ts';
import { asSchedule, nextRun, ScheduleSchema, stored, TimezoneSchema, type MonitorConfig } from './schedule.ts';

export { MONITOR_SLUG, slugify, type CheckInRecord } from './checkInRecord.ts';

export const MonitorBodySchema = z.strictObject({
  slug: z.string().regex(MONITOR_SLUG, 'letters (lower case), digits, - and _; at most 64'),
  name: z.string().trim().min(1).max(200).optional(),
  schedule: ScheduleSchema,
  timezone: TimezoneSchema.default('UTC'),
  checkin_margin: z
    .number()
    .int()
    .min(0)
    .max(1440)
    .default(1)
    .meta({ description: 'Minutes after the expected time before a run counts as missed' }),
  max_runtime: z.number().int().min(1).max(1440).default(30).meta({ description: 'Minutes an in_progress run may take' }),
  enabled: z.boolean().default(true),
});
export type MonitorBody = z.output<typeof MonitorBodySchema>;
export const MonitorPatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  schedule: ScheduleSchema.optional(),
  timezone: TimezoneSchema.optional(),
  checkin_margin: z.number().int().min(0).max(1440).optional(),
  max_runtime: z.number().int().min(1).max(1440).optional(),
  enabled: z.boolean().optional(),
});
export type MonitorPatch = z.output<typeof MonitorPatchSchema>;

export function serializeMonitor(m: Monitor) {
  return {
    id: m.id,
    project: m.projectId,
    slug: m.slug,
    name: m.name,
    schedule: asSchedule(m),
    timezone: m.timezone,
    checkin_margin: m.checkinMarginMinutes,
    max_runtime: m.maxRuntimeMinutes,
    status: m.status,
    enabled: m.enabled,
    last_checkin_at: m.lastCheckinAt?.toISOString() ?? null,
    next_expected_at: m.nextExpectedAt?.toISOString() ?? null,
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
  };
}

export interface CheckInRow {
  id: string;
  check_in_id: string;
  status: string;
  source: string;
  environment: string | null;
  release: string | null;
  duration_ms: number | null;
  expected_at: Date | null;
  started_at: Date;
  finished_at: Date | null;
}

export const serializeCheckIn = (c: CheckInRow) => ({
  id: c.id,
  check_in_id: c.check_in_id,
  status: c.status,
  source: c.source,
  environment: c.environment,
  release: c.release,
  duration_ms: c.duration_ms,
  expected_at: c.expected_at?.toISOString() ?? null,
  started_at: c.started_at.toISOString(),
  finished_at: c.finished_at?.toISOString() ?? null,
});

const CHECKIN_COLUMNS = `id, check_in_id, status, source, environment, release, duration_ms, expected_at, started_at, finished_at`;

export async function listMonitors(access: Access, actor: Actor, projectId: number): Promise<Monitor[]> {
  const { ds } = access;
  await access.authorize(actor, projectId, 'view');
  return ds.getRepository(Monitor).find({ where: { projectId }, order: { id: 'ASC' } });
}

export async function monitorFor(
  access: Access,
  actor: Actor,
  projectId: number,
  monitorId: number,
  action: 'view' | 'manage_alerts' = 'view',
): Promise<Monitor> {
  const { ds } = access;
  await access.authorize(actor, projectId, action);
  const m =
    Number.isSafeInteger(monitorId) && monitorId < 2 ** 31 ? await ds.getRepository(Monitor).findOneBy({ id: monitorId, projectId }) : null;
  if (!m) throw notFound('Monitor not found');
  return m;
}

/** The latest check-ins of some monitors (the lists show each monitor's last runs). */
export async function lastCheckIns(ds: DataSource, monitorIds: number[], per = 5): Promise<Map<number, CheckInRow[]>> {
  const out = new Map<number, CheckInRow[]>(monitorIds.map((id) => [id, []]));
  if (!monitorIds.length) return out;
  const rows: Array<CheckInRow & { monitor_id: number }> = await ds.query(
    `SELECT c.monitor_id, c.${CHECKIN_COLUMNS.split(', ').join(', c.')}
       FROM unnest($1::int[]) AS m(id)
       CROSS JOIN LATERAL (SELECT * FROM monitor_checkins WHERE monitor_id = m.id ORDER BY started_at DESC, id DESC LIMIT $2) c`,
    [monitorIds, per],
  );
  for (const r of rows) out.get(r.monitor_id)!.push(r);
  return out;
}

export async function checkInsOf(
  ds: DataSource,
  monitorId: number,
  page: { limit: number; offset: number },
): Promise<{ count: number; rows: CheckInRow[] }> {
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM monitor_checkins WHERE monitor_id = $1`, [monitorId]);
  const rows: CheckInRow[] = await ds.query(
    `SELECT ${CHECKIN_COLUMNS} FROM monitor_checkins WHERE monitor_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3`,
    [monitorId, page.limit, page.offset],
  );
  return { count: n, rows };
}

/** A schedule as the monitors table stores it, with the first expected run (crontab: the next slot from now). */
export function scheduleFields(
  cfg: { schedule: MonitorConfig['schedule']; timezone?: string | null; checkin_margin?: number | null; max_runtime?: number | null },
  now: Date,
) {
  const s = stored(cfg.schedule);
  const timezone = cfg.timezone ?? 'UTC';
  const margin = cfg.checkin_margin ?? 1;
  // A crontab expects its next slot from now on; an interval only once it has a first check-in.
  const next = s.scheduleType === 'crontab' ? nextRun({ ...s, timezone }, now) : null;
  return {
    ...s,
    timezone,
    margin,
    maxRuntime: cfg.max_runtime ?? 30,
    next,
    deadline: next ? new Date(next.getTime() + margin * 60_000) : null,
  };
}

export async function createMonitor(access: Access, actor: Actor, projectId: number, body: MonitorBody): Promise<Monitor> {
  const { ds } = access;
  await access.authorize(actor, projectId, 'manage_alerts');
  const f = scheduleFields(
    { schedule: body.schedule, timezone: body.timezone, checkin_margin: body.checkin_margin, max_runtime: body.max_runtime },
    new Date(),
  );
  const rows: Array<{ id: number }> = await ds.query(
    `INSERT INTO monitors (project_id, slug, name, schedule_type, schedule, timezone, checkin_margin_minutes, max_runtime_minutes, enabled, next_expected_at, deadline_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (project_id, slug) DO NOTHING RETURNING id`,
    [
      projectId,
      body.slug,
      body.name ?? body.slug,
      f.scheduleType,
      f.schedule,
      f.timezone,
      f.margin,
      f.maxRuntime,
      body.enabled,
      f.next,
      f.deadline,
    ],
  );
  if (!rows[0])
    throw conflict(`A monitor "${body.slug}" already exists in this project`, 'monitor_exists', [
      { path: 'slug', message: 'already taken' },
    ]);
  return ds.getRepository(Monitor).findOneByOrFail({ id: rows[0].id });
}

export async function updateMonitor(
  access: Access,
  actor: Actor,
  projectId: number,
  monitorId: number,
  patch: MonitorPatch,
): Promise<Monitor> {
  const { ds } = access;
  const m = await monitorFor(access, actor, projectId, monitorId, 'manage_alerts');
  if (patch.name !== undefined) m.name = patch.name;
  if (patch.enabled !== undefined) m.enabled = patch.enabled;
  if (patch.schedule || patch.timezone !== undefined || patch.checkin_margin !== undefined || patch.max_runtime !== undefined) {
    const f = scheduleFields(
      {
        schedule: patch.schedule ?? asSchedule(m),
        timezone: patch.timezone ?? m.timezone,
        checkin_margin: patch.checkin_margin ?? m.checkinMarginMinutes,
        max_runtime: patch.max_runtime ?? m.maxRuntimeMinutes,
      },
      new Date(),
    );
    Object.assign(m, {
      scheduleType: f.scheduleType,
      schedule: f.schedule,
      timezone: f.timezone,
      checkinMarginMinutes: f.margin,
      maxRuntimeMinutes: f.maxRuntime,
    });
    // The expectation starts over from the new schedule.
    const next = f.next ?? (m.lastCheckinAt ? nextRun(m, m.lastCheckinAt) : null);
    m.nextExpectedAt = next;
    m.deadlineAt = next ? new Date(next.getTime() + f.margin * 60_000) : null;
  }
  return ds.getRepository(Monitor).save(m);
}

export async function deleteMonitor(access: Access, actor: Actor, projectId: number, monitorId: number): Promise<void> {
  const { ds } = access;
  const m = await monitorFor(access, actor, projectId, monitorId, 'manage_alerts');
  await ds.getRepository(Monitor).delete({ id: m.id });
}

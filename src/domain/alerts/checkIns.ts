import type { DataSource } from 'typeorm';
import type { CheckInRecord } from './checkInRecord.ts';
import { environmentMatches } from './filters.ts';
import { recordFiring, rulesFor, type RuleRow } from './firings.ts';
import type { Outgoing } from './jobs.ts';
import { links } from './links.ts';
import type { FiringPayload } from './messages.ts';
import { scheduleFields } from './monitors.ts';
import { asSchedule, nextRun, nextSlotAfterMiss, type MonitorConfig } from './schedule.ts';
import { inTransaction, type Q } from './tx.ts';
import type { AlertJobs } from './jobs.ts';

/**
 * Cron monitors at work: recording check-ins (Sentry `check_in` items, the HTTP ping) and
 * the schedule's side — missed and timed-out runs — with the monitor.* firings they cause.
 * (The monitors themselves, their API and listing: ./monitors.ts.)
 */

interface MonitorRow {
  id: number;
  project_id: number;
  slug: string;
  name: string;
  schedule_type: 'crontab' | 'interval';
  schedule: string;
  timezone: string;
  checkin_margin_minutes: number;
  max_runtime_minutes: number;
  status: string;
  enabled: boolean;
  next_expected_at: Date | null;
  deadline_at: Date | null;
}
const MONITOR_COLUMNS = `id, project_id, slug, name, schedule_type, schedule, timezone, checkin_margin_minutes, max_runtime_minutes, status, enabled, next_expected_at, deadline_at`;
const scheduled = (m: MonitorRow) => ({ scheduleType: m.schedule_type, schedule: m.schedule, timezone: m.timezone });

/** The HTTP ping's upsert, before its check-in is queued, so the script's next ping finds the monitor. */
export async function upsertMonitor(ds: DataSource, projectId: number, slug: string, cfg: MonitorConfig): Promise<void> {
  await inTransaction(ds, (q) => upsertFromConfig(q, projectId, slug, cfg, new Date()));
}

/** Sentry's upsert: a check-in with monitor_config creates the monitor, or brings its schedule up to date. */
async function upsertFromConfig(q: Q, projectId: number, slug: string, cfg: MonitorConfig, now: Date): Promise<MonitorRow> {
  const f = scheduleFields(cfg, now);
  const { rows } = await q.query<MonitorRow>(
    `INSERT INTO monitors (project_id, slug, name, schedule_type, schedule, timezone, checkin_margin_minutes, max_runtime_minutes, next_expected_at, deadline_at)
     VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (project_id, slug) DO UPDATE SET
       schedule_type = EXCLUDED.schedule_type, schedule = EXCLUDED.schedule, timezone = EXCLUDED.timezone,
       checkin_margin_minutes = EXCLUDED.checkin_margin_minutes, max_runtime_minutes = EXCLUDED.max_runtime_minutes,
       updated_at = now()
     RETURNING ${MONITOR_COLUMNS}`,
    [projectId, slug, f.scheduleType, f.schedule, f.timezone, f.margin, f.maxRuntime, f.next, f.deadline],
  );
  return rows[0];
}

function monitorPayload(
  m: MonitorRow,
  title: string,
  text: string,
  extra: { expected_at?: Date | null; check_in_id?: string; environment?: string | null; duration_ms?: number | null },
): FiringPayload {
  const url = links.monitor(m.id);
  const s = asSchedule(scheduled(m));
  const facts = [
    { label: 'Monitor', value: m.slug },
    {
      label: 'Schedule',
      value: s.type === 'crontab' ? `${s.value} (${m.timezone})` : `every ${s.value} ${s.unit}${s.value === 1 ? '' : 's'}`,
    },
  ];
  if (extra.expected_at) facts.push({ label: 'Expected at', value: extra.expected_at.toISOString() });
  if (extra.environment) facts.push({ label: 'Environment', value: extra.environment });
  if (extra.duration_ms != null) facts.push({ label: 'Duration', value: `${Math.round(extra.duration_ms)} ms` });
  return {
    title,
    text,
    url,
    level: 'error',
    facts,
    monitor: {
      id: m.id,
      slug: m.slug,
      name: m.name,
      status: m.status,
      expected_at: extra.expected_at?.toISOString() ?? null,
      check_in_id: extra.check_in_id,
      url,
    },
  };
}

/** Rules of a monitor trigger that watch this monitor in this environment. */
async function monitorRules(
  q: Q,
  m: MonitorRow,
  trigger: 'monitor.missed' | 'monitor.failed',
  environment: string | null,
): Promise<RuleRow[]> {
  return (await rulesFor(q, m.project_id, [trigger])).filter((r) => {
    const slugs = (r.params as { monitors?: string[] }).monitors;
    return (!slugs || slugs.includes(m.slug)) && environmentMatches(r.filters, environment);
  });
}

async function fireFor(
  q: Q,
  rules: RuleRow[],
  m: MonitorRow,
  kind: 'firing' | 'recovered',
  key: string,
  payload: FiringPayload,
  out: Outgoing[],
): Promise<void> {
  for (const rule of rules) {
    const r = await recordFiring(q, {
      projectId: m.project_id,
      rule,
      trigger: rule.trigger,
      triggerKey: key,
      subject: `monitor:${m.id}`,
      kind,
      payload,
    });
    out.push(...r.outgoing);
  }
}

/**
 * One check-in (store-check-ins): upserts the monitor when the check-in carries
 * monitor_config, records the run (an in_progress followed by its ok/error is one run),
 * moves the schedule's expectation on, and fires monitor.failed for an error (and a
 * recovery when a failing monitor is OK again). Idempotent: a check-in seen before
 * changes nothing.
 */
export async function recordCheckIn(
  ds: DataSource,
  jobs: AlertJobs,
  c: CheckInRecord,
): Promise<'recorded' | 'duplicate' | 'unknown_monitor'> {
  const out: Outgoing[] = [];
  const receivedAt = new Date(c.received_at);
  const result = await inTransaction(ds, async (q) => {
    if (c.monitor_config) await upsertFromConfig(q, c.project_id, c.monitor_slug, c.monitor_config, receivedAt);
    const m: MonitorRow | undefined = (
      await q.query<MonitorRow>(`SELECT ${MONITOR_COLUMNS} FROM monitors WHERE project_id = $1 AND slug = $2 FOR UPDATE`, [
        c.project_id,
        c.monitor_slug,
      ])
    ).rows[0];
    if (!m) return 'unknown_monitor' as const;

    const { rows: existing } = await q.query<{ id: string; status: string; started_at: Date }>(
      `SELECT id, status, started_at FROM monitor_checkins WHERE monitor_id = $1 AND check_in_id = $2 FOR UPDATE`,
      [m.id, c.check_in_id],
    );
    let rowId: string;
    let newRun = false;
    let durationMs = c.duration_ms;
    if (c.status === 'in_progress') {
      if (existing[0]) return 'duplicate' as const;
      const ins = await q.query<{ id: string }>(
        `INSERT INTO monitor_checkins (project_id, monitor_id, check_in_id, status, source, environment, release, started_at)
         VALUES ($1, $2, $3, 'in_progress', $4, $5, $6, $7) RETURNING id`,
        [c.project_id, m.id, c.check_in_id, c.source, c.environment, c.release, receivedAt],
      );
      rowId = ins.rows[0].id;
      newRun = true;
    } else if (existing[0]) {
      if (existing[0].status !== 'in_progress') return 'duplicate' as const;
      durationMs ??= Math.max(0, receivedAt.getTime() - existing[0].started_at.getTime());
      await q.query(`UPDATE monitor_checkins SET status = $2, finished_at = $3, duration_ms = $4, updated_at = now() WHERE id = $1`, [
        existing[0].id,
        c.status,
        receivedAt,
        durationMs,
      ]);
      rowId = existing[0].id;
    } else {
      const started = new Date(receivedAt.getTime() - (c.duration_ms ?? 0));
      const ins = await q.query<{ id: string }>(
        `INSERT INTO monitor_checkins (project_id, monitor_id, check_in_id, status, source, environment, release, duration_ms, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
        [c.project_id, m.id, c.check_in_id, c.status, c.source, c.environment, c.release, c.duration_ms, started, receivedAt],
      );
      rowId = ins.rows[0].id;
      newRun = true;
    }
    if (newRun) {
      // This run answers the slot the schedule expected: expect the next one.
      const next = nextRun(scheduled(m), receivedAt);
      await q.query(`UPDATE monitors SET last_checkin_at = $2, next_expected_at = $3, deadline_at = $4, updated_at = now() WHERE id = $1`, [
        m.id,
        receivedAt,
        next,
        new Date(next.getTime() + m.checkin_margin_minutes * 60_000),
      ]);
    }
    if (c.status !== 'in_progress') {
      const previous = m.status;
      m.status = c.status === 'ok' ? 'ok' : 'error';
      await q.query(`UPDATE monitors SET status = $2, updated_at = now() WHERE id = $1`, [m.id, m.status]);
      if (m.enabled && c.status === 'error') {
        const payload = monitorPayload(m, `Cron monitor "${m.name}" failed`, `A run of ${m.slug} reported an error.`, {
          check_in_id: c.check_in_id,
          environment: c.environment,
          duration_ms: durationMs,
        });
        await fireFor(q, await monitorRules(q, m, 'monitor.failed', c.environment), m, 'firing', `failed:${rowId}`, payload, out);
      } else if (m.enabled && c.status === 'ok' && ['error', 'timeout', 'missed'].includes(previous)) {
        const trigger = previous === 'missed' ? 'monitor.missed' : 'monitor.failed';
        const payload = monitorPayload(
          m,
          `Cron monitor "${m.name}" is OK again`,
          `${m.slug} checked in OK after ${previous === 'missed' ? 'a missed run' : 'a failure'}.`,
          {
            check_in_id: c.check_in_id,
            environment: c.environment,
            duration_ms: durationMs,
          },
        );
        await fireFor(q, await monitorRules(q, m, trigger, c.environment), m, 'recovered', `recovered:${rowId}`, payload, out);
      }
    }
    return 'recorded' as const;
  });
  await jobs.deliver(out);
  return result;
}

async function lastEnvironment(q: Q, monitorId: number): Promise<string | null> {
  const { rows } = await q.query<{ environment: string | null }>(
    `SELECT environment FROM monitor_checkins WHERE monitor_id = $1 AND source <> 'schedule' ORDER BY started_at DESC LIMIT 1`,
    [monitorId],
  );
  return rows[0]?.environment ?? null;
}

/**
 * The schedule's side (evaluate-alerts): monitors whose deadline passed without a
 * check-in get a `missed` run and fire monitor.missed (once per missed slot: the key is
 * the expected time); in_progress runs older than max_runtime become `timeout` and fire
 * monitor.failed. Each monitor in its own transaction, under its row lock.
 */
export async function detectMonitorProblems(
  ds: DataSource,
  jobs: AlertJobs,
  now: Date,
  limit = 500,
): Promise<{ missed: number; timedOut: number }> {
  let missed = 0;
  let timedOut = 0;
  const due: Array<{ id: number }> = await ds.query(
    `SELECT id FROM monitors WHERE enabled AND deadline_at <= $1 ORDER BY deadline_at LIMIT $2`,
    [now, limit],
  );
  for (const { id } of due) {
    const out: Outgoing[] = [];
    const did = await inTransaction(ds, async (q) => {
      const m = (
        await q.query<MonitorRow>(`SELECT ${MONITOR_COLUMNS} FROM monitors WHERE id = $1 AND enabled AND deadline_at <= $2 FOR UPDATE`, [
          id,
          now,
        ])
      ).rows[0];
      if (!m || !m.next_expected_at) return false;
      const expected = m.next_expected_at;
      const ins = await q.query<{ id: string }>(
        `INSERT INTO monitor_checkins (project_id, monitor_id, check_in_id, status, source, expected_at, started_at)
         VALUES ($1, $2, $3, 'missed', 'schedule', $4, $4) ON CONFLICT (monitor_id, check_in_id) DO NOTHING RETURNING id`,
        [m.project_id, m.id, `missed-${expected.getTime()}`, expected],
      );
      const next = nextSlotAfterMiss(scheduled(m), expected, now);
      await q.query(`UPDATE monitors SET status = 'missed', next_expected_at = $2, deadline_at = $3, updated_at = now() WHERE id = $1`, [
        m.id,
        next,
        new Date(next.getTime() + m.checkin_margin_minutes * 60_000),
      ]);
      m.status = 'missed';
      const environment = await lastEnvironment(q, m.id);
      const payload = monitorPayload(
        m,
        `Cron monitor "${m.name}" missed a run`,
        `${m.slug} was expected at ${expected.toISOString()} and has not checked in within ${m.checkin_margin_minutes} min.`,
        {
          expected_at: expected,
          environment,
        },
      );
      await fireFor(
        q,
        await monitorRules(q, m, 'monitor.missed', environment),
        m,
        'firing',
        `missed:${m.id}:${expected.getTime()}`,
        payload,
        out,
      );
      return ins.rows.length > 0;
    });
    if (did) missed++;
    await jobs.deliver(out);
  }

  const running: Array<{ id: string }> = await ds.query(
    `SELECT c.id FROM monitor_checkins c JOIN monitors m ON m.id = c.monitor_id
      WHERE c.status = 'in_progress' AND c.started_at <= $1::timestamptz - make_interval(mins => m.max_runtime_minutes) AND m.enabled
      ORDER BY c.started_at LIMIT $2`,
    [now, limit],
  );
  for (const { id } of running) {
    const out: Outgoing[] = [];
    await inTransaction(ds, async (q) => {
      const { rows } = await q.query<{ monitor_id: number; check_in_id: string; environment: string | null; started_at: Date }>(
        `UPDATE monitor_checkins SET status = 'timeout', finished_at = $2, updated_at = now() WHERE id = $1 AND status = 'in_progress'
         RETURNING monitor_id, check_in_id, environment, started_at`,
        [id, now],
      );
      if (!rows[0]) return;
      const m = (
        await q.query<MonitorRow>(`UPDATE monitors SET status = 'timeout', updated_at = now() WHERE id = $1 RETURNING ${MONITOR_COLUMNS}`, [
          rows[0].monitor_id,
        ])
      ).rows[0];
      timedOut++;
      const payload = monitorPayload(
        m,
        `Cron monitor "${m.name}" timed out`,
        `A run of ${m.slug} started at ${rows[0].started_at.toISOString()} and did not finish within ${m.max_runtime_minutes} min.`,
        {
          check_in_id: rows[0].check_in_id,
          environment: rows[0].environment,
        },
      );
      await fireFor(q, await monitorRules(q, m, 'monitor.failed', rows[0].environment), m, 'firing', `timeout:${id}`, payload, out);
    });
    await jobs.deliver(out);
  }
  return { missed, timedOut };
}

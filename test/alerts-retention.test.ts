/**
 * Alert history retention (prune-alerts): old firings, notifications with their delivery
 * attempts, closed digests and cron check-ins go in batches; what is still in use stays.
 * Against the real database, and once through a real worker.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import { logger } from '../src/logger.ts';
import { validated } from '../src/workers/index.ts';
import { pruneAlertsProcessor } from '../src/workers/pruneAlerts.ts';
import { createUser } from './helpers/factories.ts';
import { runJob } from './helpers/jobs.ts';
import { startWeb, startWorker } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack?.web.close();
});

const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => stack.web.ds.query(sql, params);
const one = async (sql: string, params: unknown[] = []): Promise<string> => String(Object.values((await q(sql, params))[0])[0]);
const ago = (days: number) => new Date(Date.now() - days * 86_400_000);

/** A project with a channel, a rule and a monitor: the parents of every history row. */
async function project() {
  const u = await createUser(stack.web.ds);
  const p = u.personal.id;
  const channel = await one(`INSERT INTO alert_channels (project_id, name, type) VALUES ($1, 'hook', 'webhook') RETURNING id`, [p]);
  const rule = await one(
    `INSERT INTO alert_rules (project_id, name, trigger, channel_ids) VALUES ($1, 'r', 'issue.new', ARRAY[$2::int]) RETURNING id`,
    [p, channel],
  );
  const monitor = await one(
    `INSERT INTO monitors (project_id, slug, name, schedule_type, schedule) VALUES ($1, 'nightly', 'Nightly', 'crontab', '0 3 * * *') RETURNING id`,
    [p],
  );
  let n = 0;
  const firing = async (age: number) =>
    one(
      `INSERT INTO alert_firings (project_id, rule_id, trigger, trigger_key, kind, status, created_at) VALUES ($1, $2, 'issue.new', $3, 'firing', 'notified', $4) RETURNING id`,
      [p, rule, `k${++n}`, ago(age)],
    );
  const notify = async (firingId: string, age: number, status: 'pending' | 'sent' | 'failed') => {
    const id = await one(
      `INSERT INTO alert_notifications (project_id, channel_id, firing_id, status, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [p, channel, firingId, status, ago(age)],
    );
    await q(
      `INSERT INTO alert_deliveries (project_id, channel_id, notification_id, attempt, started_at, outcome) VALUES ($1, $2, $3, 1, $4, 'sent')`,
      [p, channel, id, ago(age)],
    );
    return id;
  };
  const digest = async (age: number, closed: boolean) =>
    one(`INSERT INTO alert_digests (project_id, rule_id, period_start, due_at, closed_at) VALUES ($1, $2, $3, $3, $4) RETURNING id`, [
      p,
      rule,
      ago(age),
      closed ? ago(age) : null,
    ]);
  const checkIn = async (age: number) =>
    one(
      `INSERT INTO monitor_checkins (project_id, monitor_id, check_in_id, status, source, started_at) VALUES ($1, $2, $3, 'ok', 'http', $4) RETURNING id`,
      [p, monitor, `c${++n}`, ago(age)],
    );
  return { p, rule, firing, notify, digest, checkIn };
}

const ids = async (table: string, projectId: number) =>
  (await q<{ id: string }>(`SELECT id FROM ${table} WHERE project_id = $1 ORDER BY id`, [projectId])).map((r) => r.id);

const runPrune = async (data: Record<string, unknown>) =>
  pruneAlertsProcessor(stack.web.ds, logger)(validated({ id: 'test', name: 'prune-alerts', data } as unknown as Job));

describe('prune-alerts', () => {
  it('deletes history past the retention in batches, and keeps pending notifications, firings in use, open digests and each monitor’s latest check-in', async () => {
    const x = await project();
    // Old and done: all of it goes (deliveries with their notification).
    const oldFirings = [await x.firing(100), await x.firing(120), await x.firing(95)];
    const oldSent = [await x.notify(oldFirings[0], 100, 'sent'), await x.notify(oldFirings[1], 120, 'failed')];
    await x.digest(100, true);
    await x.checkIn(200);
    await x.checkIn(150);
    // Old but in use: a pending notification (and its firing), a firing a rule state points at, an open digest.
    const pendingFiring = await x.firing(100);
    const pending = await x.notify(pendingFiring, 100, 'pending');
    const stateFiring = await x.firing(100);
    await q(`INSERT INTO alert_rule_states (rule_id, subject, since, firing_id) VALUES ($1, '_', $2, $3)`, [x.rule, ago(100), stateFiring]);
    const openDigest = await x.digest(100, false);
    const latestCheckIn = await x.checkIn(120); // old, but the monitor's newest
    // Recent: stays.
    const recentFiring = await x.firing(10);
    const recent = await x.notify(recentFiring, 10, 'sent');
    const recentDigest = await x.digest(10, true);

    // Batches of 1: every loop must run to the end.
    expect(await runPrune({ days: 90, batch_size: 1 })).toEqual({ notifications: 2, firings: 3, digests: 1, checkins: 2 });

    expect(await ids('alert_notifications', x.p)).toEqual([pending, recent].sort((a, b) => Number(a) - Number(b)));
    expect(await ids('alert_firings', x.p)).toEqual([pendingFiring, stateFiring, recentFiring]);
    expect(await ids('alert_digests', x.p)).toEqual([openDigest, recentDigest]);
    expect(await ids('monitor_checkins', x.p)).toEqual([latestCheckIn]);
    const deliveries = await q<{ notification_id: string }>(
      `SELECT notification_id FROM alert_deliveries WHERE project_id = $1 ORDER BY 1`,
      [x.p],
    );
    expect(deliveries.map((d) => d.notification_id)).toEqual([pending, recent]);
    for (const gone of oldSent) expect(await ids('alert_notifications', x.p)).not.toContain(gone);

    // Idempotent: a second run finds nothing.
    expect(await runPrune({ days: 90 })).toEqual({ notifications: 0, firings: 0, digests: 0, checkins: 0 });
  });

  it('refuses a malformed payload without retrying', async () => {
    await expect(runPrune({ days: 0 })).rejects.toThrow(/invalid prune-alerts payload/);
  });

  it('runs through the worker with the configured retention', async () => {
    const x = await project();
    const old = await x.firing(400);
    const kept = await x.firing(1);
    const worker = await startWorker();
    try {
      const { state } = await runJob(stack.web.queues, 'prune-alerts', {});
      expect(state).toBe('completed');
      expect(await ids('alert_firings', x.p)).toEqual([kept]);
      expect(old).not.toBe(kept);
    } finally {
      await worker.close();
    }
  });
});

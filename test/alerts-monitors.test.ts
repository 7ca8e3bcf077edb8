/**
 * Issue 13, cron monitors: check-ins from the real @sentry/node SDK (`withMonitor`,
 * which upserts the monitor from its monitor_config) and from the plain HTTP ping, then
 * monitor.missed when a run does not come, monitor.failed when one errors or outlives
 * its max runtime, and "OK again" when it recovers. The schedule's side is the
 * evaluate-alerts job, run with `now` moved past the deadline.
 */
import './helpers/alertsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as Sentry from '@sentry/node';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { drained, runJob } from './helpers/jobs.ts';
import { startReceiver } from './helpers/receiver.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let base: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  receiver = await startReceiver();
  base = await listen(stack.web);
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  await receiver.close();
});

const api = (u: TestUser) => ({
  get: (p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`),
  post: (p: string, b?: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b),
});
async function alertTo(u: TestUser, path: string, trigger: string, extra: Record<string, unknown> = {}) {
  const ch = await api(u).post(`/api/projects/${u.personal.id}/alert-channels/`, {
    name: path,
    type: 'webhook',
    url: `${receiver.url}${path}`,
  });
  expect(ch.status).toBe(201);
  const r = await api(u).post(`/api/projects/${u.personal.id}/alert-rules/`, { name: trigger, trigger, channels: [ch.body.id], ...extra });
  expect(r.status).toBe(201);
  return r.body.id as number;
}
const got = (path: string) =>
  receiver.requests.filter((r) => r.url === path).map((r) => r.json as { type: string; title: string; firing: Record<string, any> });
async function evaluate(now: Date) {
  await drained(stack.web.queues, ['alerts']);
  expect((await runJob(stack.web.queues, 'evaluate-alerts', { now: now.toISOString() })).state).toBe('completed');
  await drained(stack.web.queues, ['alerts', 'notifications']);
}
const monitors = async (u: TestUser) =>
  (await api(u).get(`/api/projects/${u.personal.id}/monitors/`)).body.results as Array<Record<string, any>>;

async function withSdk(u: TestUser, fn: () => Promise<void>) {
  const dsn = `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${u.personal.id}`;
  Sentry.init({ dsn, defaultIntegrations: false, environment: 'production', release: 'jobs@1.0.0', enableRuntimeChannelInjection: false });
  try {
    await fn();
    expect(await Sentry.flush(5000)).toBe(true);
  } finally {
    await Sentry.close(2000);
  }
}
const config = { schedule: { type: 'crontab' as const, value: '*/5 * * * *' }, checkinMargin: 2, maxRuntime: 10, timezone: 'UTC' };

describe('@sentry/node withMonitor', () => {
  it('creates the monitor on its first check-in, records the run, and a missed run fires monitor.missed once — then OK again', async () => {
    const u = await createUser(stack.web.ds);
    await alertTo(u, '/missed', 'monitor.missed', { filters: { environments: ['production'] } });
    await withSdk(u, async () => {
      await Sentry.withMonitor('Nightly Report', async () => new Promise((r) => setTimeout(r, 20)), config);
    });
    const [m] = await eventually(async () => {
      const ms = await monitors(u);
      return ms[0]?.status === 'ok' ? ms : null;
    });
    expect(m).toMatchObject({
      slug: 'nightly-report',
      schedule: { type: 'crontab', value: '*/5 * * * *' },
      timezone: 'UTC',
      checkin_margin: 2,
      max_runtime: 10,
      status: 'ok',
    });
    expect(m.last_checkins).toEqual([
      expect.objectContaining({
        status: 'ok',
        source: 'sentry',
        environment: 'production',
        release: 'jobs@1.0.0',
        duration_ms: expect.any(Number),
      }),
    ]);
    expect(m.last_checkins[0].duration_ms).toBeGreaterThanOrEqual(15);
    const expected = new Date(m.next_expected_at);
    expect(expected.getUTCMinutes() % 5).toBe(0);

    // Within the margin: not missed yet.
    await evaluate(new Date(expected.getTime() + 60_000));
    expect(got('/missed')).toEqual([]);
    // Past it: missed, once, however often the schedule looks.
    const late = new Date(expected.getTime() + 2 * 60_000 + 1000);
    await evaluate(late);
    await evaluate(late);
    expect(got('/missed')).toEqual([
      expect.objectContaining({
        type: 'alert.firing',
        title: 'Cron monitor "nightly-report" missed a run',
        firing: expect.objectContaining({
          trigger: 'monitor.missed',
          monitor: expect.objectContaining({ slug: 'nightly-report', expected_at: expected.toISOString() }),
        }),
      }),
    ]);
    const [after] = await monitors(u);
    expect(after.status).toBe('missed');
    expect(after.last_checkins[0]).toMatchObject({ status: 'missed', source: 'schedule', expected_at: expected.toISOString() });
    expect(new Date(after.next_expected_at).getTime()).toBeGreaterThan(late.getTime());

    // The next run checks in: recovered.
    await withSdk(u, async () => {
      await Sentry.withMonitor('Nightly Report', async () => undefined, config);
    });
    await eventually(async () => got('/missed').length === 2);
    expect(got('/missed')[1]).toMatchObject({ type: 'alert.recovered', title: 'Cron monitor "nightly-report" is OK again' });
  });

  it('a run that throws is an error check-in: monitor.failed', async () => {
    const u = await createUser(stack.web.ds);
    await alertTo(u, '/failed-sdk', 'monitor.failed');
    await withSdk(u, async () => {
      await expect(Sentry.withMonitor('import-job', async () => Promise.reject(new Error('disk full')), config)).rejects.toThrow(
        'disk full',
      );
    });
    await eventually(async () => got('/failed-sdk').length === 1);
    expect(got('/failed-sdk')[0]).toMatchObject({ type: 'alert.firing', title: 'Cron monitor "import-job" failed' });
    const [m] = await monitors(u);
    expect(m.status).toBe('error');
    expect(m.last_checkins.map((c: { status: string }) => c.status)).toEqual(['error']); // one run: in_progress, then error
  });
});

describe('the HTTP ping', () => {
  const ping = (key: string, slug: string, body?: object) =>
    fetch(`${base}/api/monitors/${slug}/check-ins/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });

  it('a cron script checks in with curl-like requests; a run longer than max_runtime is a failure', async () => {
    const u = await createUser(stack.web.ds);
    await alertTo(u, '/failed-http', 'monitor.failed', { params: { monitors: ['backup'] } });
    // Unknown, and no monitor_config: 404, nothing queued.
    const unknown = await ping(u.apiKey, 'backup');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('monitor_not_found');
    // Bad input is a 400 naming the field.
    const bad = await ping(u.apiKey, 'backup', { status: 'done', monitor_config: { schedule: { type: 'crontab', value: 'every day' } } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { details: Array<{ path: string }> }).details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['status', 'monitor_config.schedule.value']),
    );
    // A user token is not a project key.
    expect((await ping(u.access, 'backup')).status).toBe(401);

    const start = await ping(u.apiKey, 'backup', {
      status: 'in_progress',
      monitor_config: { schedule: { type: 'interval', value: 1, unit: 'hour' }, max_runtime: 5 },
    });
    expect(start.status).toBe(202);
    const { check_in_id } = (await start.json()) as { check_in_id: string };
    expect(check_in_id).toMatch(/^\w{32}$/);
    const [m] = await eventually(async () => {
      const ms = await monitors(u);
      return ms[0]?.last_checkins.length ? ms : null;
    });
    expect(m).toMatchObject({ slug: 'backup', schedule: { type: 'interval', value: 1, unit: 'hour' }, max_runtime: 5 });
    expect(m.last_checkins[0]).toMatchObject({ check_in_id, status: 'in_progress', source: 'http' });

    // Six minutes later it still runs: timed out.
    await evaluate(new Date(new Date(m.last_checkins[0].started_at).getTime() + 6 * 60_000));
    expect(got('/failed-http')).toEqual([expect.objectContaining({ title: 'Cron monitor "backup" timed out' })]);
    // Its late "ok" changes nothing: the run is over.
    expect((await ping(u.apiKey, 'backup', { status: 'ok', check_in_id })).status).toBe(202);
    // A plain ping (no body) is an ok run of its own.
    expect((await ping(u.apiKey, 'backup')).status).toBe(202);
    await eventually(async () => (await monitors(u))[0].last_checkins.length === 2);
    await drained(stack.web.queues, ['alerts', 'notifications']);
    const [after] = await monitors(u);
    expect(after.last_checkins.map((c: { status: string }) => c.status)).toEqual(['ok', 'timeout']);
    expect(after.status).toBe('ok');
    expect(got('/failed-http').map((x) => x.type)).toEqual(['alert.firing', 'alert.recovered']);
    const runs = await api(u).get(`/api/projects/${u.personal.id}/monitors/${after.id}/check-ins/?page_size=1`);
    expect(runs.body).toMatchObject({ count: 2, previous: null, results: [expect.objectContaining({ status: 'ok' })] });
    expect(runs.body.next).toMatch(/page=2/);
  });
});

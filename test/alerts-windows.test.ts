/**
 * Issue 13, windowed rules and noise control: issue.frequency, events.threshold and
 * llm.threshold fire once when a window crosses the threshold and send "recovered" when
 * it falls back under; cooldown, digest and snooze. The repeatable evaluate-alerts job
 * is run as the scheduler would, with `now` moved forward to let windows pass.
 */
import './helpers/alertsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { userLogToRecord, UserLogSchema } from '../src/domain/ingest/formats/logs.ts';
import { addJob } from '../src/queues/producer.ts';
import { eventually, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';
import { drained, runJob, waitForJob } from './helpers/jobs.ts';
import { startReceiver } from './helpers/receiver.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  receiver = await startReceiver();
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  await receiver.close();
});

const api = (u: TestUser) => ({
  get: (p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`),
  post: (p: string, b?: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b),
  patch: (p: string, b: object) => stack.http.patch(p).set('Authorization', `Bearer ${u.access}`).send(b),
});
async function hook(u: TestUser, path: string) {
  const res = await api(u).post(`/api/projects/${u.personal.id}/alert-channels/`, {
    name: path,
    type: 'webhook',
    url: `${receiver.url}${path}`,
  });
  expect(res.status).toBe(201);
  return res.body.id as number;
}
async function rule(u: TestUser, body: Record<string, unknown>) {
  const res = await api(u).post(`/api/projects/${u.personal.id}/alert-rules/`, { name: 'r', ...body });
  expect(res.status).toBe(201);
  return res.body.id as number;
}
async function ingest(u: TestUser, events: Array<Record<string, unknown>>) {
  expect((await stack.http.post('/api/events/').set('Authorization', `Bearer ${u.apiKey}`).send(events)).status).toBe(202);
}
const stored = async (u: TestUser, n: number) =>
  eventually(
    async () => (await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1`, [u.personal.id]))[0].n === n,
  );
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
/** One evaluation as of `now`, once the stored batches are counted (their jobs done), and whatever it queued delivered. */
async function evaluate(now = new Date().toISOString()) {
  await drained(stack.web.queues, ['events']);
  expect((await runJob(stack.web.queues, 'evaluate-alerts', { now })).state).toBe('completed');
  await drained(stack.web.queues, ['alerts', 'notifications']);
}
const got = (path: string) =>
  receiver.requests.filter((r) => r.url === path).map((r) => r.json as { type: string; title: string; firing: Record<string, unknown> });
/** The rule's firings in the order they were recorded (the API lists newest first by their time, which `now` moves). */
const firings = async (u: TestUser, ruleId: number) =>
  (
    (await api(u).get(`/api/projects/${u.personal.id}/alert-firings/?rule=${ruleId}`)).body.results as Array<{
      id: string;
      kind: string;
      status: string;
      value: number;
      notifications: unknown[];
    }>
  ).sort((a, b) => Number(a.id) - Number(b.id));

describe('issue.frequency', () => {
  it('fires once when an issue is seen N times in M minutes, stays quiet while it stays up, and says when it recovered', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await hook(u, '/frequency');
    const r = await rule(u, {
      name: 'Hot issue',
      trigger: 'issue.frequency',
      params: { threshold: 5, window_minutes: 10 },
      channels: [ch],
    });
    const ev = (i: number) => pantiesEvent({ event_id: `f-${i}`, exception_type: 'HotError' });
    await ingest(u, [0, 1, 2, 3].map(ev));
    await stored(u, 4);
    await evaluate();
    expect(await firings(u, r)).toEqual([]); // 4 < 5

    await ingest(u, [4, 5].map(ev));
    await stored(u, 6);
    await evaluate();
    expect(got('/frequency')).toEqual([
      expect.objectContaining({ type: 'alert.firing', title: expect.stringMatching(/^Issue seen 6 times in 10 min: HotError/) }),
    ]);

    await ingest(u, [6, 7, 8].map(ev));
    await stored(u, 9);
    await evaluate();
    await evaluate();
    expect(got('/frequency')).toHaveLength(1); // still over: no second message

    await evaluate(inMinutes(11)); // the window has moved past every event
    expect(got('/frequency').map((m) => m.type)).toEqual(['alert.firing', 'alert.recovered']);
    expect(got('/frequency')[1].title).toMatch(/^Back under 5 in 10 min: HotError/);
    expect((await firings(u, r)).map((f) => [f.kind, f.status, f.value])).toEqual([
      ['firing', 'notified', 6],
      ['recovered', 'notified', 0],
    ]);
  });

  it('counts each issue on its own', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await hook(u, '/per-issue');
    const r = await rule(u, { trigger: 'issue.frequency', params: { threshold: 3, window_minutes: 5 }, channels: [ch] });
    await ingest(u, [
      ...[0, 1].map((i) => pantiesEvent({ event_id: `a-${i}`, exception_type: 'AError' })),
      ...[0, 1, 2].map((i) => pantiesEvent({ event_id: `b-${i}`, exception_type: 'BError' })),
    ]);
    await stored(u, 5);
    await evaluate();
    const f = await firings(u, r);
    expect(f).toHaveLength(1);
    expect(got('/per-issue')[0].title).toMatch(/BError/);
  });
});

describe('events.threshold', () => {
  it('counts only what matches the filters (kind, level, service, text, environment), and a re-delivered job counts nothing twice', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await hook(u, '/threshold');
    const r = await rule(u, {
      name: 'API timeouts',
      trigger: 'events.threshold',
      params: { kind: 'log', threshold: 5, window_minutes: 5 },
      filters: { min_level: 'warning', services: ['api'], search: 'upstream timeout', environments: ['production'] },
      channels: [ch],
    });
    const fields = (id: string, f: Record<string, unknown>) => ({
      event_id: id,
      message: 'Upstream timeout after 30s',
      severity: 'ERROR',
      source: 'api',
      environment: 'production',
      project: u.personal.id,
      ...f,
    });
    const log = (id: string, f: Record<string, unknown>) =>
      stack.http.post('/api/logs/').set('Authorization', `Bearer ${u.access}`).send(fields(id, f));
    for (const [id, f] of [
      ['m1', {}],
      ['m2', { severity: 'WARNING' }],
      ['m3', { message: 'upstream TIMEOUT on /pay' }],
      ['x-level', { severity: 'INFO' }],
      ['x-service', { source: 'web' }],
      ['x-text', { message: 'Upstream refused' }],
      ['x-env', { environment: 'staging' }],
    ] as const) {
      expect((await log(id, f)).status).toBe(202);
    }
    // An error event that matches everything but the kind.
    await ingest(u, [
      pantiesEvent({ event_id: 'x-kind', level: 'error', service_name: 'api', environment: 'production', message: 'upstream timeout' }),
    ]);
    // A matching log in a job of its own, delivered twice (as after a worker crash): stored once, counted once.
    const dup = [userLogToRecord(UserLogSchema.parse(fields('dup-1', {})), u.personal.id, new Date().toISOString())];
    await waitForJob(await addJob(stack.web.queues, 'store-events', { items: dup }));
    await waitForJob(await addJob(stack.web.queues, 'store-events', { items: dup }));
    await stored(u, 9);
    await evaluate();
    expect(await firings(u, r)).toEqual([]); // 4 match; counted twice it would have been 5

    expect((await log('m4', {})).status).toBe(202);
    await stored(u, 10);
    await evaluate();
    const messages = got('/threshold');
    expect(messages).toEqual([expect.objectContaining({ type: 'alert.firing', title: 'API timeouts: 5 logs in 5 min' })]);
    expect((messages[0] as unknown as { url: string }).url).toMatch(
      /^http:\/\/faultline\.test\/admin\/resources\/Event\?filters\.projectId=\d+&filters\.kind=log&filters\.level=warning&filters\.environment=production&filters\.service=api/,
    );

    await evaluate(inMinutes(6));
    expect(got('/threshold').map((m) => m.type)).toEqual(['alert.firing', 'alert.recovered']);
  });
});

describe('noise control', () => {
  it('cooldown: firing again within the cooldown is recorded as suppressed (and so is its recovery), not sent', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await hook(u, '/cooldown');
    const r = await rule(u, {
      trigger: 'events.threshold',
      params: { threshold: 2, window_minutes: 1 },
      cooldown_minutes: 60,
      channels: [ch],
    });
    await ingest(
      u,
      [1, 2].map((i) => pantiesEvent({ event_id: `c1-${i}` })),
    );
    await stored(u, 2);
    await evaluate();
    await evaluate(inMinutes(2)); // recovered
    await ingest(
      u,
      [1, 2].map((i) => pantiesEvent({ event_id: `c2-${i}` })),
    );
    await stored(u, 4);
    await evaluate(); // over again, within the hour
    await evaluate(inMinutes(2));
    expect(got('/cooldown').map((m) => m.type)).toEqual(['alert.firing', 'alert.recovered']);
    expect((await firings(u, r)).map((f) => [f.kind, f.status])).toEqual([
      ['firing', 'notified'],
      ['recovered', 'notified'],
      ['firing', 'suppressed'],
      ['recovered', 'suppressed'],
    ]);
  });

  it('digest: a rule’s firings over N minutes go out as one message', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await hook(u, '/digest');
    const r = await rule(u, { name: 'New issues digest', trigger: 'issue.new', digest_minutes: 5, channels: [ch] });
    await ingest(
      u,
      ['One', 'Two', 'Three'].map((t) => pantiesEvent({ event_id: `d-${t}`, exception_type: `${t}Error` })),
    );
    await eventually(async () => (await firings(u, r)).length === 3);
    expect((await firings(u, r)).every((f) => f.status === 'digested')).toBe(true);
    // The digest waits for the end of its period: a delayed job. Let the period end now.
    const [delayed] = await stack.web.queues.notifications.getDelayed();
    expect(delayed).toBeDefined();
    await delayed.promote();
    await eventually(async () => got('/digest').length === 1);
    const digest = receiver.requests.filter((q) => q.url === '/digest')[0].json as {
      type: string;
      title: string;
      firings: Array<{ title: string }>;
      firings_total: number;
    };
    expect(digest).toMatchObject({ type: 'alert.digest', title: 'New issues digest: 3 alerts in 5 min', firings_total: 3 });
    expect(digest.firings.map((f) => f.title).sort()).toEqual([
      expect.stringMatching(/OneError/),
      expect.stringMatching(/ThreeError/),
      expect.stringMatching(/TwoError/),
    ]);
    // Sent digests take no more: a later firing starts the next one.
    await ingest(u, [pantiesEvent({ event_id: 'd-Four', exception_type: 'FourError' })]);
    await eventually(async () => (await firings(u, r)).length === 4);
    await drained(stack.web.queues, ['alerts']);
    const [{ digests }] = await stack.web.ds.query(
      `SELECT count(DISTINCT digest_id)::int AS digests FROM alert_firings WHERE rule_id = $1`,
      [r],
    );
    expect(digests).toBe(2);
    expect(got('/digest')).toHaveLength(1);
    // …which goes out at the end of its own period, with just that one.
    const [next] = await stack.web.queues.notifications.getDelayed();
    await next.promote();
    await eventually(async () => got('/digest').length === 2);
    expect(receiver.requests.filter((q) => q.url === '/digest')[1].json).toMatchObject({
      type: 'alert.digest',
      firings_total: 1,
      firings: [{ title: expect.stringMatching(/FourError/) }],
    });
  });

  it('snooze: firings are recorded, nothing is sent until it ends', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await hook(u, '/snoozed');
    const r = await rule(u, { trigger: 'issue.new', channels: [ch], snoozed_until: inMinutes(60) });
    await ingest(u, [pantiesEvent({ event_id: 's-1', exception_type: 'SleepyError' })]);
    await eventually(async () => (await firings(u, r)).length === 1);
    await drained(stack.web.queues, ['alerts', 'notifications']);
    expect(await firings(u, r)).toEqual([expect.objectContaining({ status: 'snoozed', notifications: [] })]);
    expect(got('/snoozed')).toEqual([]);
    // Awake again: the next new issue is sent.
    expect((await api(u).patch(`/api/projects/${u.personal.id}/alert-rules/${r}/`, { snoozed_until: null })).status).toBe(200);
    await ingest(u, [pantiesEvent({ event_id: 's-2', exception_type: 'AwakeError' })]);
    await eventually(async () => got('/snoozed').length === 1);
  });
});

describe('llm.threshold', () => {
  it('error share and p95 latency per model, over the calls of the window', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await hook(u, '/llm');
    const errors = await rule(u, {
      name: 'LLM errors',
      trigger: 'llm.threshold',
      params: { metric: 'error_rate', threshold: 0.5, window_minutes: 5, min_calls: 4 },
      channels: [ch],
    });
    const slow = await rule(u, {
      name: 'Slow model',
      trigger: 'llm.threshold',
      params: { metric: 'p95_latency_ms', threshold: 1000, window_minutes: 5, per_model: true, min_calls: 2 },
      channels: [ch],
    });
    const call = (i: number, metadata: Record<string, unknown>) => ({
      api_key: u.apiKey,
      event_id: `llm-${i}`,
      query: `q${i}`,
      response: 'a',
      metadata,
    });
    const calls = [
      call(1, { model: 'fast-1', latency_ms: 120, error: 'rate limited' }),
      call(2, { model: 'fast-1', latency_ms: 150, status: 'error' }),
      call(3, { model: 'fast-1', latency_ms: 110 }),
      call(4, { model: 'slow-2', latency_ms: 2400, status_code: 500 }),
      call(5, { model: 'slow-2', latency_ms: 2600 }),
    ];
    expect((await stack.http.post('/api/llm-log/').send(calls)).status).toBe(202);
    await eventually(
      async () => (await stack.web.ds.query(`SELECT count(*)::int AS n FROM llm_logs WHERE project_id = $1`, [u.personal.id]))[0].n === 5,
    );
    await evaluate();
    const e = await firings(u, errors);
    expect(e.map((f) => [f.kind, f.value])).toEqual([['firing', 0.6]]); // 3 of 5
    const s = await firings(u, slow);
    expect(s).toHaveLength(1); // slow-2 only
    const titles = got('/llm')
      .map((m) => m.title)
      .sort();
    expect(titles).toEqual([
      'LLM errors: LLM error rate 60.0% in 5 min',
      expect.stringMatching(/^Slow model: LLM p95 latency \d+ ms \(slow-2\) in 5 min$/),
    ]);
  });
});

/**
 * Issue 13, delivery: issue.new and issue.regressed from stored batches, through the
 * notifications queue to real receivers — HTTP servers on loopback (webhook, Slack,
 * Discord bodies) and a real SMTP server (smtp-server) — with retries, permanent
 * failures, the delivery log, HMAC signatures and idempotency keys.
 */
import { SMTP_PORT } from './helpers/alertsEnv.ts';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { retryAfterMs } from '../src/domain/alerts/senders.ts';
import { notificationBackoff } from '../src/workers/index.ts';
import { RetryDelivery } from '../src/workers/deliverNotification.ts';
import { eventually, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';
import { drained } from './helpers/jobs.ts';
import { addMember } from './helpers/logs.ts';
import { startReceiver, status, type Received } from './helpers/receiver.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let smtp: SMTPServer;
const mails: Array<{ from: string; to: string[]; raw: string; user: string | undefined }> = [];

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  receiver = await startReceiver();
  smtp = new SMTPServer({
    authOptional: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth: (auth, _session, cb) =>
      auth.username === 'alerts' && auth.password === 'secret-pass' ? cb(null, { user: auth.username }) : cb(new Error('bad credentials')),
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(SMTP_PORT, '127.0.0.1', resolve));
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  await receiver.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const api = (u: TestUser) => ({
  get: (p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`),
  post: (p: string, b?: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b),
  patch: (p: string, b: object) => stack.http.patch(p).set('Authorization', `Bearer ${u.access}`).send(b),
});

async function channel(u: TestUser, body: Record<string, unknown>) {
  const res = await api(u).post(`/api/projects/${u.personal.id}/alert-channels/`, { name: 'c', ...body });
  expect(res.status).toBe(201);
  return res.body as { id: number; secret: string | null };
}
async function rule(u: TestUser, body: Record<string, unknown>) {
  const res = await api(u).post(`/api/projects/${u.personal.id}/alert-rules/`, { name: 'r', ...body });
  expect(res.status).toBe(201);
  return res.body as { id: number };
}
async function ingest(u: TestUser, events: Array<Record<string, unknown>>) {
  const res = await stack.http.post('/api/events/').set('Authorization', `Bearer ${u.apiKey}`).send(events);
  expect(res.status).toBe(202);
}
const forPath = (path: string) => receiver.requests.filter((r) => r.url === path);
const issueOf = async (u: TestUser) =>
  (await stack.web.ds.query(`SELECT id, times_seen::int AS n FROM issues WHERE project_id = $1`, [u.personal.id]))[0] as
    { id: string; n: number } | undefined;
const firingsOf = async (u: TestUser) => (await api(u).get(`/api/projects/${u.personal.id}/alert-firings/`)).body;

describe('issue.new', () => {
  it('1,000 events of one new issue send exactly one message, signed, with an idempotency key and a link to the issue', async () => {
    const u = await createUser(stack.web.ds);
    const hook = await channel(u, { type: 'webhook', url: `${receiver.url}/new-issue` });
    const r = await rule(u, { name: 'New issues', trigger: 'issue.new', channels: [hook.id] });
    // Ten concurrent requests of 100 events: many batches, several workers' statements.
    await Promise.all(
      Array.from({ length: 10 }, (_, b) =>
        ingest(
          u,
          Array.from({ length: 100 }, (_, i) =>
            pantiesEvent({ event_id: `storm-${b}-${i}`, message: `boom ${b * 100 + i}`, exception_type: 'StormError' }),
          ),
        ),
      ),
    );
    await eventually(async () => (await issueOf(u))?.n === 1000, 30_000);
    await eventually(async () => forPath('/new-issue').length >= 1);
    await drained(stack.web.queues, ['events', 'alerts', 'notifications']);
    const got = forPath('/new-issue');
    expect(got).toHaveLength(1);

    const m = got[0];
    const body = m.json as Record<string, any>;
    const issue = await issueOf(u);
    expect(body).toMatchObject({
      type: 'alert.firing',
      project: { id: u.personal.id },
      rule: { id: r.id, name: 'New issues', trigger: 'issue.new' },
      url: `http://faultline.test/admin/resources/Issue/records/${issue!.id}/show`,
      firing: {
        trigger: 'issue.new',
        trigger_key: `issue.new:${issue!.id}`,
        kind: 'firing',
        issue: { id: issue!.id },
        event: { url: expect.stringMatching(/^http:\/\/faultline\.test\/admin\/resources\/Event\/records\/\d+\/show$/) },
      },
    });
    expect(body.title).toMatch(/^New issue: StormError/);
    // The receiver's checks: the idempotency key, and HMAC-SHA256 over "<timestamp>.<body>" under the channel's secret.
    expect(m.headers['idempotency-key']).toBe(body.id);
    const ts = m.headers['x-faultline-timestamp'] as string;
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(300);
    expect(m.headers['x-faultline-signature']).toBe(`sha256=${createHmac('sha256', hook.secret!).update(`${ts}.${m.body}`).digest('hex')}`);
    expect(m.headers['content-type']).toBe('application/json');

    const firings = await firingsOf(u);
    expect(firings.count).toBe(1);
    expect(firings.results[0]).toMatchObject({
      rule: r.id,
      status: 'notified',
      notifications: [
        {
          channel: hook.id,
          status: 'sent',
          attempts: 1,
          idempotency_key: body.id,
          deliveries: [{ attempt: 1, status_code: 200, outcome: 'sent' }],
        },
      ],
    });
  });

  it('filters decide: an event outside the environment filter fires nothing', async () => {
    const u = await createUser(stack.web.ds);
    const hook = await channel(u, { type: 'webhook', url: `${receiver.url}/filtered` });
    await rule(u, { trigger: 'issue.new', channels: [hook.id], filters: { environments: ['production'], min_level: 'error' } });
    await ingest(u, [pantiesEvent({ event_id: 'staging-1', environment: 'staging', exception_type: 'StagingOnly' })]);
    await ingest(u, [pantiesEvent({ event_id: 'prod-1', environment: 'Production', exception_type: 'ProdError' })]);
    await eventually(async () => forPath('/filtered').length >= 1);
    await drained(stack.web.queues, ['events', 'alerts', 'notifications']);
    expect(forPath('/filtered').map((r) => (r.json as { title: string }).title)).toEqual([expect.stringMatching(/^New issue: ProdError/)]);
    const signals = await stack.web.ds.query(
      `SELECT count(*)::int AS n FROM alert_signals WHERE project_id = $1 AND processed_at IS NOT NULL`,
      [u.personal.id],
    );
    expect(signals[0].n).toBe(2); // both issues were considered
  });
});

describe('issue.regressed', () => {
  it('resolving an issue and seeing it again sends one regression; later events of the reopened issue send none', async () => {
    const u = await createUser(stack.web.ds);
    const hook = await channel(u, { type: 'webhook', url: `${receiver.url}/regressed` });
    await rule(u, { trigger: 'issue.regressed', channels: [hook.id] });
    await ingest(u, [pantiesEvent({ event_id: 'r-1', exception_type: 'FlakyError' })]);
    await eventually(async () => (await issueOf(u))?.n === 1);
    const issue = (await issueOf(u))!;
    expect((await api(u).patch(`/api/issues/${issue.id}/`, { status: 'resolved' })).status).toBe(200);
    await ingest(u, [pantiesEvent({ event_id: 'r-2', exception_type: 'FlakyError' })]);
    await eventually(async () => forPath('/regressed').length >= 1);
    await ingest(u, [pantiesEvent({ event_id: 'r-3', exception_type: 'FlakyError' })]);
    await eventually(async () => (await issueOf(u))?.n === 3);
    await drained(stack.web.queues, ['events', 'alerts', 'notifications']);
    const got = forPath('/regressed');
    expect(got).toHaveLength(1);
    expect(got[0].json).toMatchObject({
      type: 'alert.firing',
      title: expect.stringMatching(/^Regression: FlakyError/),
      firing: { trigger: 'issue.regressed', issue: { id: issue.id, status: 'unresolved' } },
    });
  });
});

describe('delivery', () => {
  async function testNotification(u: TestUser, channelId: number) {
    const res = await api(u).post(`/api/projects/${u.personal.id}/alert-channels/${channelId}/test/`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ kind: 'test', status: 'notified', notifications: [{ channel: channelId, status: 'pending' }] });
    return res.body as { id: string; notifications: Array<{ id: string; idempotency_key: string }> };
  }
  const notification = async (id: string) =>
    (await stack.web.ds.query(`SELECT status, attempts, last_error FROM alert_notifications WHERE id = $1`, [id]))[0];
  const deliveries = async (u: TestUser, channelId: number) =>
    (await api(u).get(`/api/projects/${u.personal.id}/alert-channels/${channelId}/deliveries/`)).body;

  it('a receiver that answers 500, then 200, gets it twice with the same idempotency key and it counts as delivered once', async () => {
    const u = await createUser(stack.web.ds);
    const hook = await channel(u, { type: 'webhook', url: `${receiver.url}/flaky` });
    receiver.reply(status(500, {}, 'database is down'));
    const f = await testNotification(u, hook.id);
    await eventually(async () => (await notification(f.notifications[0].id)).status === 'sent');
    const got = forPath('/flaky');
    expect(got).toHaveLength(2);
    expect(got.map((r) => r.headers['idempotency-key'])).toEqual([f.notifications[0].idempotency_key, f.notifications[0].idempotency_key]);
    expect((got[0].json as { type: string }).type).toBe('alert.test');
    const log = await deliveries(u, hook.id);
    expect(
      log.results.map((d: { attempt: number; status_code: number; outcome: string }) => [d.attempt, d.status_code, d.outcome]),
    ).toEqual([
      [2, 200, 'sent'],
      [1, 500, 'retry'],
    ]);
    expect(log.results[1].error).toContain('database is down');
    expect(log.results[0].latency_ms).toEqual(expect.any(Number));
  });

  it('a receiver that answers 400 is a recorded, permanent failure: no retries', async () => {
    const u = await createUser(stack.web.ds);
    const hook = await channel(u, { type: 'webhook', url: `${receiver.url}/gone` });
    receiver.reply(status(400, {}, 'unknown hook'));
    const f = await testNotification(u, hook.id);
    const job = await eventually(async () => {
      const j = await stack.web.queues.notifications.getJob(`notification-${f.notifications[0].id}`);
      return j && (await j.getState()) === 'failed' ? j : null;
    });
    expect(job.attemptsMade).toBe(1);
    expect(await notification(f.notifications[0].id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: expect.stringContaining('HTTP 400'),
    });
    expect(forPath('/gone')).toHaveLength(1);
    expect((await deliveries(u, hook.id)).results).toEqual([expect.objectContaining({ attempt: 1, status_code: 400, outcome: 'failed' })]);
  });

  it('429 is retried; the receiver’s Retry-After sets the wait (seconds or an HTTP date)', async () => {
    const u = await createUser(stack.web.ds);
    const hook = await channel(u, { type: 'webhook', url: `${receiver.url}/busy` });
    receiver.reply(status(429, { 'Retry-After': '1' }));
    const f = await testNotification(u, hook.id);
    await eventually(async () => (await notification(f.notifications[0].id)).status === 'sent');
    expect(forPath('/busy')).toHaveLength(2);
    // The backoff BullMQ is given: the receiver's wish when it has one, else exponential from the base.
    const backoff = notificationBackoff(200);
    expect(backoff(1, 'retry-after', new RetryDelivery('429', 1000))).toBe(1000);
    expect(backoff(3, 'retry-after', new RetryDelivery('500', null))).toBeGreaterThanOrEqual(640);
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30_000);
    expect(retryAfterMs('in a while')).toBeNull();
  });

  it('a receiver that never answers times out (and is retried); one that answers 10 MB is read no further than the cap', async () => {
    const u = await createUser(stack.web.ds);
    const slow = await channel(u, { type: 'webhook', url: `${receiver.url}/slow` });
    const huge = await channel(u, { type: 'webhook', url: `${receiver.url}/huge` });
    const hanging: Array<() => void> = [];
    receiver.setFallback((res, req: Received) => {
      if (req.url === '/slow') hanging.push(() => res.destroy());
      else if (req.url === '/huge') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        const chunk = Buffer.alloc(1 << 20, 'x');
        for (let i = 0; i < 10; i++) res.write(chunk);
        res.end();
      } else res.writeHead(200).end('ok');
    });
    try {
      const s = await testNotification(u, slow.id);
      const h = await testNotification(u, huge.id);
      await eventually(async () => (await notification(h.notifications[0].id)).status === 'sent');
      const attempts = await eventually(async () => {
        const log = await deliveries(u, slow.id);
        return log.results.length >= 1 ? log.results : null;
      });
      expect(attempts[0]).toMatchObject({ outcome: 'retry', status_code: null, error: expect.stringMatching(/within 2000 ms/) });
      expect((await notification(s.notifications[0].id)).status).toBe('pending');
    } finally {
      receiver.setFallback((res) => res.writeHead(200).end('ok'));
      for (const h of hanging) h();
    }
  });

  it('Slack gets Block Kit, Discord an embed that mentions no one, with the same link', async () => {
    const u = await createUser(stack.web.ds);
    const slack = await channel(u, { type: 'slack', url: `${receiver.url}/slack/T000/B000/XXXX` });
    const discord = await channel(u, { type: 'discord', url: `${receiver.url}/discord/123/abc` });
    await rule(u, { trigger: 'issue.new', channels: [slack.id, discord.id] });
    await ingest(u, [pantiesEvent({ event_id: 'chat-1', exception_type: 'ChatError', message: '@everyone look <here> & now' })]);
    const [s, d] = await eventually(async () => {
      const s = forPath('/slack/T000/B000/XXXX')[0];
      const d = forPath('/discord/123/abc')[0];
      return s && d ? [s, d] : null;
    });
    const issue = (await issueOf(u))!;
    const link = `http://faultline.test/admin/resources/Issue/records/${issue.id}/show`;
    const sj = s.json as { text: string; blocks: Array<Record<string, any>> };
    expect(sj.text).toMatch(/New issue: ChatError/);
    expect(sj.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
    expect(sj.blocks.find((b) => b.type === 'actions')).toMatchObject({ elements: [{ type: 'button', url: link }] });
    // Slack parses <…> in mrkdwn as links and mentions: escaped there (a plain_text header shows it as is).
    expect(sj.text).toContain('&lt;here&gt; &amp; now');
    expect(JSON.stringify(sj.blocks.filter((b) => b.type !== 'header'))).not.toMatch(/<(?!http)/);
    const dj = d.json as { content: string; allowed_mentions: { parse: string[] }; embeds: Array<Record<string, unknown>> };
    expect(dj.allowed_mentions).toEqual({ parse: [] });
    expect(dj.embeds[0]).toMatchObject({ title: expect.stringMatching(/^New issue: ChatError/), url: link });
  });

  it('email goes over SMTP (authenticated), with text and HTML parts, to the addresses and the members in the chosen roles', async () => {
    const u = await createUser(stack.web.ds);
    const admin = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    await addMember(stack.web.ds, u.personal.id, admin.user.id, 'admin');
    await addMember(stack.web.ds, u.personal.id, viewer.user.id, 'viewer');
    const mail = await channel(u, { type: 'email', addresses: ['oncall@example.org'], roles: ['owner', 'admin'] });
    const before = mails.length;
    const res = await api(u).post(`/api/projects/${u.personal.id}/alert-channels/${mail.id}/test/`);
    expect(res.status).toBe(202);
    const m = await eventually(async () => mails[before]);
    expect(m.user).toBe('alerts');
    expect(m.from).toBe('alerts@faultline.test');
    expect(m.to.sort()).toEqual(['oncall@example.org', u.user.email, admin.user.email].sort());
    expect(m.to).not.toContain(viewer.user.email);
    const raw = m.raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    expect(raw).toMatch(/Subject: \[Faultline\] Test notification from Faultline/);
    expect(raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(raw).toMatch(/Content-Type: text\/plain/);
    expect(raw).toMatch(/Content-Type: text\/html/);
    expect(raw).toContain(`Message-ID: <${res.body.notifications[0].idempotency_key}@faultline.alerts>`);
    expect(raw).toContain('http://faultline.test/admin/resources/AlertChannel/records/');
    await eventually(async () => (await notification(res.body.notifications[0].id)).status === 'sent');
    const log = await deliveries(u, mail.id);
    expect(log.results[0]).toMatchObject({ outcome: 'sent', status_code: 250 });
  });
});

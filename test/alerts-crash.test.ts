/**
 * Issue 13, crashes: a firing is recorded before it is sent, so a worker process
 * SIGKILLed mid-delivery loses nothing — after the restart the notification goes out
 * with the same idempotency key (the one in flight is the only possible repeat, and the
 * key lets the receiver drop it). And what a crash leaves between a commit and its
 * enqueue (a signal, a notification) is found by the evaluate-alerts sweep. Its own
 * file: BullMQ's stalled-job check runs at the interval the first worker on a queue set.
 */
import './helpers/alertsEnv.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { recordFiring, RULE_COLUMNS } from '../src/domain/alerts/firings.ts';
import { inTransaction } from '../src/domain/alerts/tx.ts';
import { pantiesToRecord, PantiesEventSchema } from '../src/domain/ingest/formats/panties.ts';
import { insertEvents } from '../src/domain/events/store.ts';
import { IssueIdCache, prepareIssues } from '../src/domain/issues/assign.ts';
import { sqlOf } from '../src/db/sql.ts';
import { eventually, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';
import { runJob } from './helpers/jobs.ts';
import { startReceiver } from './helpers/receiver.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let worker: TestWorker | null = null;

beforeAll(async () => {
  stack = await startWeb();
  receiver = await startReceiver();
});
afterAll(async () => {
  await worker?.close();
  await stack.web.close();
  await receiver.close();
});

const api = (u: TestUser) => ({ post: (p: string, b?: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b) });
async function issueNewRule(u: TestUser, path: string) {
  const ch = await api(u).post(`/api/projects/${u.personal.id}/alert-channels/`, {
    name: path,
    type: 'webhook',
    url: `${receiver.url}${path}`,
  });
  const r = await api(u).post(`/api/projects/${u.personal.id}/alert-rules/`, { name: 'new', trigger: 'issue.new', channels: [ch.body.id] });
  expect(r.status).toBe(201);
  return { channelId: ch.body.id as number, ruleId: r.body.id as number };
}
const at = (path: string) => receiver.requests.filter((r) => r.url === path);
const one = async <T>(sql: string, params: unknown[]) => (await stack.web.ds.query(sql, params))[0] as T;

describe('a worker killed mid-delivery', () => {
  it('SIGKILL while the receiver holds the request: after the restart it is delivered, with the same idempotency key, and recorded once', async () => {
    const u = await createUser(stack.web.ds);
    const { ruleId } = await issueNewRule(u, '/crash');
    const held: Array<() => void> = [];
    receiver.reply((res) => held.push(() => res.destroy())); // the first attempt never gets an answer

    const runner = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
    const child = spawn(process.execPath, [runner, 'worker'], {
      env: { ...process.env, WORKER_LOCK_DURATION_MS: '1500', WORKER_STALLED_INTERVAL_MS: '500', ALERT_HTTP_TIMEOUT_MS: '60000' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      expect(
        (
          await stack.http
            .post('/api/events/')
            .set('Authorization', `Bearer ${u.apiKey}`)
            .send(pantiesEvent({ exception_type: 'CrashError' }))
        ).status,
      ).toBe(202);
      await eventually(async () => at('/crash').length === 1, 30_000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // Recorded before it was sent: the firing and its notification exist; no attempt has an outcome yet.
    const firing = await one<{ id: string; status: string }>(`SELECT id, status FROM alert_firings WHERE rule_id = $1`, [ruleId]);
    expect(firing.status).toBe('notified');
    const n = await one<{ id: string; status: string; idempotency_key: string }>(
      `SELECT id, status, idempotency_key FROM alert_notifications WHERE firing_id = $1`,
      [firing.id],
    );
    expect(n.status).toBe('pending');
    expect((await one<{ n: number }>(`SELECT count(*)::int AS n FROM alert_deliveries WHERE notification_id = $1`, [n.id])).n).toBe(0);
    held.forEach((h) => h());

    worker = await startWorker({ stalledIntervalMs: 500, lockDurationMs: 1500 });
    await eventually(
      async () => (await one<{ status: string }>(`SELECT status FROM alert_notifications WHERE id = $1`, [n.id])).status === 'sent',
      30_000,
    );
    const got = at('/crash');
    expect(got).toHaveLength(2);
    expect(got.map((r) => r.headers['idempotency-key'])).toEqual([n.idempotency_key, n.idempotency_key]);
    expect(got.map((r) => (r.json as { id: string }).id)).toEqual([n.idempotency_key, n.idempotency_key]);
    expect((await one<{ n: number }>(`SELECT count(*)::int AS n FROM alert_firings WHERE rule_id = $1`, [ruleId])).n).toBe(1);
    expect(await stack.web.ds.query(`SELECT outcome, status_code FROM alert_deliveries WHERE notification_id = $1`, [n.id])).toEqual([
      { outcome: 'sent', status_code: 200 },
    ]);
  });
});

describe('the sweep', () => {
  beforeAll(async () => {
    worker ??= await startWorker({ stalledIntervalMs: 500, lockDurationMs: 1500 });
  });

  it('a stored batch whose signal job was never queued (a crash right after the commit) still fires', async () => {
    const u = await createUser(stack.web.ds);
    await issueNewRule(u, '/late-signal');
    // The store statement alone, as a worker that died before queueing process-alert-signals left it.
    const sql = sqlOf(stack.web.ds);
    const items = [
      pantiesToRecord(PantiesEventSchema.parse(pantiesEvent({ exception_type: 'OrphanError' })), u.personal.id, new Date().toISOString()),
    ];
    const batch = await insertEvents(sql, items, await prepareIssues(sql, items, new IssueIdCache()));
    expect(batch.signalIds).toHaveLength(1);
    // Older than the sweep's grace period.
    await stack.web.ds.query(`UPDATE alert_signals SET created_at = now() - interval '5 minutes' WHERE id = $1`, [batch.signalIds[0]]);
    expect((await runJob(stack.web.queues, 'evaluate-alerts', {})).state).toBe('completed');
    await eventually(async () => at('/late-signal').length === 1);
    expect((at('/late-signal')[0].json as { title: string }).title).toMatch(/^New issue: OrphanError/);
    // Handled signals are pruned after a day.
    await stack.web.ds.query(`UPDATE alert_signals SET processed_at = now() - interval '2 days' WHERE id = $1`, [batch.signalIds[0]]);
    expect((await runJob(stack.web.queues, 'evaluate-alerts', {})).state).toBe('completed');
    expect(await stack.web.ds.query(`SELECT 1 FROM alert_signals WHERE id = $1`, [batch.signalIds[0]])).toEqual([]);
  });

  it('a notification recorded but never queued is queued by the sweep, once', async () => {
    const u = await createUser(stack.web.ds);
    const { ruleId } = await issueNewRule(u, '/late-notification');
    const [rule] = await stack.web.ds.query(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1`, [ruleId]);
    const recorded = await inTransaction(stack.web.ds, (q) =>
      recordFiring(q, {
        projectId: u.personal.id,
        rule,
        trigger: 'issue.new',
        triggerKey: 'issue.new:manual',
        kind: 'firing',
        payload: { title: 'Recorded, never queued', text: '', url: '' },
      }),
    );
    expect(recorded.outgoing).toHaveLength(1);
    await stack.web.ds.query(`UPDATE alert_notifications SET created_at = now() - interval '5 minutes' WHERE id = $1`, [
      recorded.outgoing[0].notificationId,
    ]);
    expect((await runJob(stack.web.queues, 'evaluate-alerts', {})).state).toBe('completed');
    await eventually(async () => at('/late-notification').length === 1);
    expect((await runJob(stack.web.queues, 'evaluate-alerts', {})).state).toBe('completed');
    expect(at('/late-notification')).toHaveLength(1);
  });
});

/**
 * Issue 12: triage. Real clients (@sentry/node in child processes, Debian's
 * python3-sentry-sdk), the real HTTP server, real workers, PostgreSQL and Redis.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addMember } from './helpers/logs.ts';
import { EnvelopeAttachments } from '../src/domain/attachments/attachments.ts';
import { artifactStore } from '../src/storage/index.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { expectError } from './helpers/errors.ts';

const run = promisify(execFile);
let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
let dir: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-triage-'));
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  rmSync(dir, { recursive: true, force: true });
});

const SENTRY_NODE = path.join(process.cwd(), 'node_modules/@sentry/node/build/esm/index.js');
const dsnOf = (u: TestUser) => `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${u.personal.id}`;
const get = (u: TestUser, p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`);
const patch = (u: TestUser, p: string, body: unknown) =>
  stack.http
    .patch(p)
    .set('Authorization', `Bearer ${u.access}`)
    .send(body as object);
const issuesOf = async (u: TestUser) =>
  (await get(u, `/api/issues/?project=${u.personal.id}&page_size=100`)).body.results as Array<Record<string, any>>;

/** A Node program using the real SDK, run as its own process (uncaught errors end it, as in production). */
async function runNode(name: string, source: string) {
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(file, `import * as Sentry from ${JSON.stringify(SENTRY_NODE)};\n${source}`);
  return run(process.execPath, [file], { timeout: 30_000 }).catch((err: { code?: number; stderr?: string }) => ({
    exitCode: err.code,
    stderr: err.stderr,
  }));
}

function envelope(items: Array<[Record<string, unknown>, unknown]>) {
  return Buffer.from(
    [JSON.stringify({}), ...items.flatMap(([h, p]) => [JSON.stringify(h), typeof p === 'string' ? p : JSON.stringify(p)])].join('\n') +
      '\n',
  );
}
async function sendEvents(u: TestUser, events: Array<Record<string, unknown>>) {
  const r = await fetch(`${base}/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`, {
    method: 'POST',
    body: envelope(events.map((e) => [{ type: 'event' }, e])),
  });
  expect(r.status).toBe(200);
}
const boom = (release: string | undefined, extra: Record<string, unknown> = {}) => ({
  release,
  exception: {
    values: [
      {
        type: 'PaymentError',
        value: 'card declined',
        stacktrace: { frames: [{ filename: 'shop/pay.py', module: 'shop.pay', function: 'charge', in_app: true }] },
      },
    ],
  },
  ...extra,
});
const issueFor = async (u: TestUser, times: number) =>
  eventually(async () => (await issuesOf(u)).find((i) => i.title.startsWith('PaymentError') && i.times_seen === times));

describe('@sentry/node, as a user would run it', () => {
  it('handled and unhandled errors keep their mechanism and frames; anonymous callbacks are separate issues; release health', async () => {
    const u = await createUser(stack.web.ds);
    const init = (user: string) =>
      `Sentry.init({ dsn: ${JSON.stringify(dsnOf(u))}, release: 'shop@1.0.0', environment: 'production' });\nSentry.setUser({ id: ${JSON.stringify(user)} });\n`;
    // Two unrelated TypeErrors, each in an anonymous callback of the same file.
    const handled = await runNode(
      'handled',
      `${init('ada')}
[1].forEach(() => { try { null.price.toFixed(2); } catch (e) { Sentry.captureException(e); } });
['x'].map(() => { try { undefined.name.trim(); } catch (e) { Sentry.captureException(e); } });
await Sentry.close(5000);
`,
    );
    expect(handled).toMatchObject({ stderr: '' });
    // A crash: the SDK reports it unhandled and marks the session crashed, then the process exits 1.
    const crashed = await runNode('crash', `${init('bob')}\nsetTimeout(() => { undefined.total.toFixed(); }, 10);\n`);
    expect(crashed).toMatchObject({ exitCode: 1 });

    // Grouping creates an issue (times_seen 0) just before the statement that stores its event and counts it: wait for the counts.
    const issues = await eventually(async () => {
      const list = await issuesOf(u);
      return list.length === 3 && list.every((i) => i.times_seen > 0) ? list : null;
    });
    expect(issues.map((i) => i.title).sort()).toEqual([
      "TypeError: Cannot read properties of null (reading 'price')",
      "TypeError: Cannot read properties of undefined (reading 'name')",
      "TypeError: Cannot read properties of undefined (reading 'total')",
    ]);
    for (const i of issues)
      expect(i).toMatchObject({ first_release: 'shop@1.0.0', last_release: 'shop@1.0.0', users_seen: 1, grouping_version: 2 });

    const crash = issues.find((i) => i.title.includes("'total'"))!;
    const event = (await get(u, `/api/issues/${crash.id}/events/latest/`)).body;
    expect(event).toMatchObject({
      level: 'critical',
      release: 'shop@1.0.0',
      data: { handled: false, platform: 'node', user: { id: 'bob' } },
    });
    const [exc] = event.data.exceptions;
    expect(exc.mechanism).toEqual({ type: 'auto.node.onuncaughtexception', handled: false });
    const top = exc.frames.at(-1);
    expect(top).toMatchObject({
      filename: expect.stringMatching(/crash\.mjs$/),
      lineno: 5,
      in_app: true,
      context_line: 'setTimeout(() => { undefined.total.toFixed(); }, 10);',
    });
    expect(top.pre_context.length).toBeGreaterThan(0);
    expect(event.data.contexts).toMatchObject({ runtime: { name: 'node' }, os: expect.any(Object) });

    const handledIssue = issues.find((i) => i.title.includes("'price'"))!;
    const h = (await get(u, `/api/issues/${handledIssue.id}/events/latest/`)).body;
    expect(h.data.exceptions[0].mechanism).toMatchObject({ handled: true });
    expect(h.data.handled).toBe(true);

    // Sessions: two processes of shop@1.0.0, one crashed — 50 % crash-free, sessions and users.
    const release = await eventually(async () => {
      const b = (await get(u, `/api/projects/${u.personal.id}/releases/shop@1.0.0/`)).body;
      return b.health?.sessions === 2 && b.health.sessions_crashed === 1 ? b : null;
    });
    expect(release).toMatchObject({
      version: 'shop@1.0.0',
      package: 'shop',
      new_issues: 3,
      health: { sessions: 2, sessions_crashed: 1, crash_free_sessions: 50, users: 2, users_crashed: 1, crash_free_users: 50 },
    });
    expect(release.health.environments.production).toMatchObject({ sessions: 2, crash_free_sessions: 50 });
    expect(release.first_seen).not.toBeNull();
  });
});

describe('one error, one issue', () => {
  it('a Sentry logger.error about a captured exception, in the same trace, opens no second issue; an unrelated error log does', async () => {
    const u = await createUser(stack.web.ds);
    await runNode(
      'logs',
      `Sentry.init({ dsn: ${JSON.stringify(dsnOf(u))}, release: 'shop@1.0.0', enableLogs: true });
try { null.price; } catch (err) {
  Sentry.captureException(err);
  Sentry.logger.error(Sentry.logger.fmt\`checkout failed: \${err.message}\`, { 'exception.type': err.name, 'exception.message': err.message });
  Sentry.logger.error(String(err));
  Sentry.logger.error('disk full on /var');
}
await Sentry.close(5000);
`,
    );
    // Once the three logs are stored, their grouping was decided in the same statement.
    const logs = await eventually(async () => {
      const b = (await get(u, `/api/logs/?project=${u.personal.id}&severity=ERROR`)).body;
      return b.count === 3 ? b.results : null;
    });
    expect(logs.map((l: { message: string }) => l.message).sort()).toEqual([
      "TypeError: Cannot read properties of null (reading 'price')",
      "checkout failed: Cannot read properties of null (reading 'price')",
      'disk full on /var',
    ]);
    // The SDK may send the logs before the event: then storing the event takes the duplicate
    // log out of the issue it opened. Either way the end state is one issue per error.
    const expected = [
      ["TypeError: Cannot read properties of null (reading 'price')", 1],
      ['disk full on /var', 1],
    ];
    const issues = await eventually(async () => {
      const list = await issuesOf(u);
      return JSON.stringify(list.map((i) => [i.title, i.times_seen]).sort()) === JSON.stringify(expected) ? list : null;
    });
    const typeError = issues.find((i) => i.title.startsWith('TypeError'))!;
    const events = (await get(u, `/api/issues/${typeError.id}/events/`)).body.results;
    expect(events.map((e: { event_type: string }) => e.event_type)).toEqual(['exception']);
  });
});

describe('python3-sentry-sdk (Debian, 1.9.10): the logging integration', () => {
  it('logentry with %s params and no formatted: stored formatted, grouped by the template', async () => {
    const u = await createUser(stack.web.ds);
    const script = path.join(dir, 'log.py');
    writeFileSync(
      script,
      `import logging, sentry_sdk
sentry_sdk.init(dsn=${JSON.stringify(dsnOf(u))}, release="worker@3.0.0")
log = logging.getLogger("billing")
log.error("payment failed for host=%s attempt=%d", "db-1", 3)
log.error("payment failed for host=%s attempt=%d", "db-2", 4)
sentry_sdk.flush()
`,
    );
    await run('/usr/bin/python3', [script], { timeout: 30_000 });
    const [issue] = await eventually(async () => {
      const list = await issuesOf(u);
      return list.length === 1 && list[0].times_seen === 2 ? list : null;
    });
    expect(issue).toMatchObject({ title: 'payment failed for host=db-2 attempt=4', first_release: 'worker@3.0.0' });
    const events = (await get(u, `/api/issues/${issue.id}/events/`)).body.results;
    expect(events.map((e: { message: string }) => e.message).sort()).toEqual([
      'payment failed for host=db-1 attempt=3',
      'payment failed for host=db-2 attempt=4',
    ]);
    const full = (await get(u, `/api/projects/${u.personal.id}/events/${events[0].event_id}/`)).body;
    expect(full.data.logentry).toEqual({ message: 'payment failed for host=%s attempt=%d', params: ['db-2', 4] });
  });
});

describe('resolve in release, regressions', () => {
  it('resolved in release X: an event from an earlier release keeps it resolved, one from X or later reopens it as regressed', async () => {
    const u = await createUser(stack.web.ds);
    await sendEvents(u, [boom('shop@1.0.0')]);
    const issue = await issueFor(u, 1);
    const r = await patch(u, `/api/issues/${issue.id}/`, { status: 'resolved', resolution: 'in_release', release: 'shop@1.2.0' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'resolved', resolution: 'in_release', resolved_in_release: 'shop@1.2.0' });
    // 1.1.0 is older than the fix: counted, still resolved.
    await sendEvents(u, [boom('shop@1.1.0')]);
    expect(await issueFor(u, 2)).toMatchObject({ status: 'resolved', substatus: null });
    // 1.10.0 is newer (semver, not text order): regressed.
    await sendEvents(u, [boom('shop@1.10.0')]);
    expect(await issueFor(u, 3)).toMatchObject({
      status: 'unresolved',
      substatus: 'regressed',
      resolution: null,
      last_release: 'shop@1.10.0',
    });
    const activity = (await get(u, `/api/issues/${issue.id}/activity/`)).body.results;
    expect(activity.map((a: { kind: string }) => a.kind)).toEqual(['regressed', 'resolved']);
    expect(activity[0]).toMatchObject({ user: null, data: { release: 'shop@1.10.0' } });
    expect(activity[1]).toMatchObject({
      user: { id: u.user.id, email: u.user.email },
      data: { resolution: 'in_release', release: 'shop@1.2.0' },
    });
  });

  it('resolved in the next release: events of the current newest release keep it resolved, a newer release regresses it', async () => {
    const u = await createUser(stack.web.ds);
    await sendEvents(u, [boom('2.0.0'), { message: 'other', release: '2.0.1-rc.1' }]);
    const issue = await issueFor(u, 1);
    const r = await patch(u, `/api/issues/${issue.id}/`, { status: 'resolved', resolution: 'in_next_release' });
    // 2.0.1-rc.1 is newer than 2.0.0: the newest release is the pre-release.
    expect(r.body).toMatchObject({ resolution: 'in_next_release', resolved_in_release: '2.0.1-rc.1' });
    await sendEvents(u, [boom('2.0.0'), boom('2.0.1-rc.1'), boom(undefined)]);
    expect(await issueFor(u, 4)).toMatchObject({ status: 'resolved' });
    await sendEvents(u, [boom('2.0.1')]);
    expect(await issueFor(u, 5)).toMatchObject({ status: 'unresolved', substatus: 'regressed' });
  });

  it('resolved now: the next event regresses it, whatever its release', async () => {
    const u = await createUser(stack.web.ds);
    await sendEvents(u, [boom('1.0.0')]);
    const issue = await issueFor(u, 1);
    await patch(u, `/api/issues/${issue.id}/`, { status: 'resolved' }).expect(200);
    await sendEvents(u, [boom('0.9.0')]);
    expect(await issueFor(u, 2)).toMatchObject({ status: 'unresolved', substatus: 'regressed' });
  });

  it('releases are created by the API too, listed newest first with their new issues', async () => {
    const u = await createUser(stack.web.ds);
    const created = await stack.http
      .post(`/api/projects/${u.personal.id}/releases/`)
      .set('Authorization', `Bearer ${u.access}`)
      .send({ version: 'api@1.0.0', date_released: '2026-01-01T00:00:00Z' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      version: 'api@1.0.0',
      date_released: '2026-01-01T00:00:00.000Z',
      first_seen: null,
      new_issues: 0,
      health: { sessions: 0, crash_free_sessions: null },
    });
    const again = await stack.http
      .post(`/api/projects/${u.personal.id}/releases/`)
      .set('Authorization', `Bearer ${u.access}`)
      .send({ version: 'api@1.0.0' });
    expect(again.status).toBe(200);
    await sendEvents(u, [boom('api@1.1.0')]);
    await issueFor(u, 1);
    const list = (await get(u, `/api/projects/${u.personal.id}/releases/`)).body;
    expect(list.results.map((r: { version: string; new_issues: number }) => [r.version, r.new_issues])).toEqual([
      ['api@1.1.0', 1],
      ['api@1.0.0', 0],
    ]);
    const bad = await stack.http
      .post(`/api/projects/${u.personal.id}/releases/`)
      .set('Authorization', `Bearer ${u.access}`)
      .send({ version: '' });
    expectError(bad, 400, 'validation_error');
    expect(bad.body.details[0].path).toBe('version');
  });
});

describe('the issue workflow', () => {
  it('ignore for N more events, or until a date; then the issue comes back', async () => {
    const u = await createUser(stack.web.ds);
    await sendEvents(u, [boom('1.0.0')]);
    const issue = await issueFor(u, 1);
    const r = await patch(u, `/api/issues/${issue.id}/`, { status: 'ignored', ignore_count: 2 });
    expect(r.body).toMatchObject({ status: 'ignored', ignore_until_times: 3 });
    await sendEvents(u, [boom('1.0.0')]);
    expect(await issueFor(u, 2)).toMatchObject({ status: 'ignored' });
    await sendEvents(u, [boom('1.0.0')]);
    expect(await issueFor(u, 3)).toMatchObject({ status: 'unresolved', substatus: 'ongoing', ignore_until_times: null });

    await patch(u, `/api/issues/${issue.id}/`, { status: 'ignored', ignore_until: '2030-01-01T00:00:00Z' }).expect(200);
    await sendEvents(u, [boom('1.0.0', { timestamp: '2029-12-31T23:00:00Z' })]);
    expect(await issueFor(u, 4)).toMatchObject({ status: 'ignored', ignore_until: '2030-01-01T00:00:00.000Z' });
    await sendEvents(u, [boom('1.0.0', { timestamp: '2030-01-01T00:00:01Z' })]);
    expect(await issueFor(u, 5)).toMatchObject({ status: 'unresolved', ignore_until: null });
    const kinds = (await get(u, `/api/issues/${issue.id}/activity/`)).body.results.map((a: { kind: string }) => a.kind);
    expect(kinds).toEqual(['unignored', 'ignored', 'unignored', 'ignored']);

    // Ignored forever stays ignored.
    await patch(u, `/api/issues/${issue.id}/`, { status: 'ignored' }).expect(200);
    await sendEvents(u, [boom('1.0.0')]);
    expect(await issueFor(u, 6)).toMatchObject({ status: 'ignored' });
  });

  it('assign to a project member, unassign, comment; the activity log says who did what', async () => {
    const owner = await createUser(stack.web.ds);
    const member = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    await addMember(stack.web.ds, owner.personal.id, member.user.id, 'member');
    await sendEvents(owner, [boom('1.0.0')]);
    const issue = await issueFor(owner, 1);

    const assigned = await patch(member, `/api/issues/${issue.id}/`, { assignee: member.user.id, comment: 'I will take it' });
    expect(assigned.status).toBe(200);
    expect(assigned.body.assignee).toBe(member.user.id);
    const notMember = await patch(owner, `/api/issues/${issue.id}/`, { assignee: stranger.user.id });
    expect(notMember.status).toBe(400);
    expect(notMember.body).toMatchObject({ code: 'invalid_request', details: [{ path: 'assignee' }] });
    const comment = await stack.http
      .post(`/api/issues/${issue.id}/comments/`)
      .set('Authorization', `Bearer ${owner.access}`)
      .send({ text: 'thanks!' });
    expect(comment.status).toBe(201);
    expect(comment.body).toMatchObject({ kind: 'note', data: { text: 'thanks!' }, user: { id: owner.user.id } });
    await patch(owner, `/api/issues/${issue.id}/`, { assignee: null }).expect(200);

    const activity = (await get(owner, `/api/issues/${issue.id}/activity/`)).body.results;
    expect(activity.map((a: { kind: string; user: { id: number } }) => [a.kind, a.user.id])).toEqual([
      ['unassigned', owner.user.id],
      ['note', owner.user.id],
      ['note', member.user.id],
      ['assigned', member.user.id],
    ]);
    expect(activity[3].data).toMatchObject({ assignee: member.user.id, email: member.user.email });
  });

  it('bad changes are a 400 naming the field and change nothing', async () => {
    const u = await createUser(stack.web.ds);
    await sendEvents(u, [boom('1.0.0')]);
    const issue = await issueFor(u, 1);
    for (const [body, field] of [
      [{ status: 'resolved', resolution: 'in_release' }, 'release'],
      [{ status: 'unresolved', ignore_count: 3 }, 'ignore_count'],
      [{ status: 'ignored', ignore_until: 'tomorrow' }, 'ignore_until'],
      [{ status: 'sleeping' }, 'status'],
      [{}, 'status'],
      [{ status: 'resolved', colour: 'red' }, ''],
    ] as const) {
      const r = await patch(u, `/api/issues/${issue.id}/`, body);
      expect(r.status).toBe(400);
      expect(r.body.details.map((d: { path: string }) => d.path)).toContain(field);
    }
    expect((await get(u, `/api/issues/${issue.id}/`)).body).toMatchObject({ status: 'unresolved', resolution: null });
    expect((await get(u, `/api/issues/${issue.id}/activity/`)).body.results).toEqual([]);
  });

  it('permissions: viewers read, members triage, others get 404', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const member = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    await addMember(stack.web.ds, owner.personal.id, viewer.user.id, 'viewer');
    await addMember(stack.web.ds, owner.personal.id, member.user.id, 'member');
    await sendEvents(owner, [boom('1.0.0')]);
    const issue = await issueFor(owner, 1);
    const reads = ['', 'summary/', 'events/latest/', 'tags/', 'stats/?period=30d', 'activity/'];
    for (const p of reads) {
      expect((await get(viewer, `/api/issues/${issue.id}/${p}`)).status).toBe(200);
      expect((await get(stranger, `/api/issues/${issue.id}/${p}`)).status).toBe(404);
    }
    expect((await patch(viewer, `/api/issues/${issue.id}/`, { status: 'resolved' })).status).toBe(403);
    expect(
      (await stack.http.post(`/api/issues/${issue.id}/comments/`).set('Authorization', `Bearer ${viewer.access}`).send({ text: 'x' }))
        .status,
    ).toBe(403);
    expect((await patch(stranger, `/api/issues/${issue.id}/`, { status: 'resolved' })).status).toBe(404);
    expect((await patch(member, `/api/issues/${issue.id}/`, { status: 'resolved' })).status).toBe(200);
    expect((await get(viewer, `/api/projects/${owner.personal.id}/releases/`)).status).toBe(200);
    expect(
      (
        await stack.http
          .post(`/api/projects/${owner.personal.id}/releases/`)
          .set('Authorization', `Bearer ${viewer.access}`)
          .send({ version: 'x' })
      ).status,
    ).toBe(403);
    expect((await get(stranger, `/api/projects/${owner.personal.id}/releases/`)).status).toBe(404);
  });
});

describe('what the issue page reads', () => {
  it('facets with top values and shares, frequency, users affected, events with older/newer navigation', async () => {
    const u = await createUser(stack.web.ds);
    const now = Date.now() / 1000;
    const at = (s: number, user: string, release: string, browser: string) =>
      boom(release, {
        timestamp: now - s,
        user: { id: user },
        environment: 'production',
        contexts: { browser: { name: browser, version: '120' } },
        tags: { tenant: 'acme' },
      });
    await sendEvents(u, [
      at(30, 'a', '1.0.0', 'Chrome'),
      at(20, 'b', '1.0.0', 'Chrome'),
      at(10, 'a', '1.1.0', 'Firefox'),
      at(5, 'c', '1.1.0', 'Chrome'),
    ]);
    const issue = await issueFor(u, 4);
    expect(issue.users_seen).toBe(3);

    const page = (await get(u, `/api/issues/${issue.id}/summary/`)).body;
    const facet = (k: string) => page.facets.facets.find((f: { key: string }) => f.key === k);
    expect(page.facets.sampled).toBe(4);
    expect(page.facets.facets.slice(0, 3).map((f: { key: string }) => f.key)).toEqual(['environment', 'release', 'browser']);
    expect(facet('browser').top).toEqual([
      { value: 'Chrome 120', count: 3, share: 75 },
      { value: 'Firefox 120', count: 1, share: 25 },
    ]);
    expect(facet('release').top).toEqual([
      { value: '1.0.0', count: 2, share: 50 },
      { value: '1.1.0', count: 2, share: 50 },
    ]);
    expect(facet('tenant').top).toEqual([{ value: 'acme', count: 4, share: 100 }]);
    expect(page.frequency['24h']).toHaveLength(24);
    expect(page.frequency['30d']).toHaveLength(30);
    expect(page.frequency['24h'].reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(4);
    expect(page.permissions).toEqual({ triage: true });
    expect(page.members).toEqual([{ id: u.user.id, email: u.user.email, name: null, role: 'owner' }]);

    // Navigation: latest → previous → … → oldest, and back.
    const latest = page.latest_event;
    expect(latest).toMatchObject({ user_ref: 'c', next_event_id: null });
    const seen = [latest.user_ref];
    let cur = latest;
    while (cur.previous_event_id) {
      cur = (await get(u, `/api/issues/${issue.id}/events/${cur.previous_event_id}/`)).body;
      seen.push(cur.user_ref);
    }
    expect(seen).toEqual(['c', 'a', 'b', 'a']);
    expect((await get(u, `/api/issues/${issue.id}/events/oldest/`)).body.event_id).toBe(cur.event_id);
    expect((await get(u, `/api/issues/${issue.id}/events/${'f'.repeat(32)}/`)).status).toBe(404);
  });
});

describe('attachments', () => {
  it('scope.addAttachment: stored with the event, listed and downloadable; retries store nothing twice', async () => {
    const u = await createUser(stack.web.ds);
    const source = `Sentry.init({ dsn: ${JSON.stringify(dsnOf(u))}, release: 'shop@1.0.0' });
Sentry.getCurrentScope().addAttachment({ filename: 'cart.json', data: JSON.stringify({ items: 3 }), contentType: 'application/json' });
Sentry.getCurrentScope().addAttachment({ filename: 'notes.txt', data: 'café ☕' });
Sentry.captureException(new Error('checkout failed'));
await Sentry.close(5000);
`;
    await runNode('attach', source);
    const issue = await eventually(async () => (await issuesOf(u)).find((i) => i.times_seen === 1));
    const event = (await get(u, `/api/issues/${issue.id}/events/latest/`)).body;
    expect(event.attachments.map((a: { name: string; size: number; content_type: string }) => [a.name, a.size, a.content_type])).toEqual([
      ['cart.json', 11, 'application/json'],
      ['notes.txt', Buffer.byteLength('café ☕'), 'application/octet-stream'],
    ]);
    const listed = (await get(u, `/api/projects/${u.personal.id}/events/${event.event_id}/attachments/`)).body.results;
    expect(listed).toEqual(event.attachments);
    const notes = listed.find((a: { name: string }) => a.name === 'notes.txt');
    const dl = await get(u, `/api/projects/${u.personal.id}/events/${event.event_id}/attachments/${notes.id}/`)
      .buffer(true)
      .parse((res, cb) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => cb(null, Buffer.concat(parts)));
      });
    expect(dl.status).toBe(200);
    expect(dl.headers['content-disposition']).toMatch(/^attachment; filename="?notes.txt"?/);
    expect((dl.body as Buffer).toString('utf8')).toBe('café ☕');

    // The same envelope again (a client retry): nothing new.
    const again = envelope([
      [{ type: 'event' }, { event_id: event.event_id, message: 'x' }],
      [{ type: 'attachment', filename: 'notes.txt', length: Buffer.byteLength('café ☕') }, 'café ☕'],
    ]);
    expect((await fetch(`${base}/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`, { method: 'POST', body: again })).status).toBe(
      200,
    );
    expect((await get(u, `/api/projects/${u.personal.id}/events/${event.event_id}/attachments/`)).body.results).toHaveLength(2);

    // Another project's reader: 404, for the list and the bytes.
    const stranger = await createUser(stack.web.ds);
    expect((await get(stranger, `/api/projects/${u.personal.id}/events/${event.event_id}/attachments/`)).status).toBe(404);
    expect((await get(stranger, `/api/projects/${u.personal.id}/events/${event.event_id}/attachments/${notes.id}/`)).status).toBe(404);
    expect(
      (
        await get(
          u,
          `/api/projects/${u.personal.id}/events/${event.event_id}/attachments/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/`,
        )
      ).status,
    ).toBe(404);
  });

  it('past the size limit or the project quota an attachment is not stored, and its event says so', async () => {
    const u = await createUser(stack.web.ds);
    const keep = new EnvelopeAttachments(stack.web.ds, artifactStore(), { maxBytes: 10, quotaBytes: 15 });
    const record = { event_id: 'e'.repeat(32), data: {} as Record<string, unknown> };
    const [out] = await keep.keep(u.personal.id, [record], record.event_id, undefined, [
      { filename: 'small.txt', payload: Buffer.from('12345678') },
      { filename: 'big.bin', payload: Buffer.alloc(11) },
      { filename: 'second.txt', payload: Buffer.from('12345678') },
    ]);
    expect(out.data!.attachments_dropped).toEqual([
      { name: 'big.bin', size: 11, reason: 'too_large' },
      { name: 'second.txt', size: 8, reason: 'over_quota' },
    ]);
    const rows = await stack.web.ds.query(`SELECT name FROM event_attachments WHERE project_id = $1`, [u.personal.id]);
    expect(rows).toEqual([{ name: 'small.txt' }]);
  });
});

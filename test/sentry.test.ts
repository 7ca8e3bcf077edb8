/**
 * Issue 7: official Sentry SDKs send to Faultline unchanged, and error events group
 * into issues. Real HTTP, real Redis/BullMQ workers, real PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as Sentry from '@sentry/node';
import { drained } from './helpers/jobs.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
});

const get = (u: TestUser, path: string) => stack.http.get(path).set('Authorization', `Bearer ${u.access}`);
const issuesOf = async (u: TestUser) => (await get(u, `/api/issues/?project=${u.personal.id}`)).body;

function envelope(items: Array<[Record<string, unknown>, string | Buffer]>, header: Record<string, unknown> = {}) {
  const parts: Buffer[] = [Buffer.from(JSON.stringify(header) + '\n')];
  for (const [h, payload] of items)
    parts.push(Buffer.from(JSON.stringify(h) + '\n'), Buffer.isBuffer(payload) ? payload : Buffer.from(payload), Buffer.from('\n'));
  return Buffer.concat(parts);
}

async function post(path: string, body: Buffer, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-sentry-envelope', ...headers } });
}
const auth = (key: string) => ({
  'X-Sentry-Auth': `Sentry sentry_version=7, sentry_client=test/1.0, sentry_key=${key}, sentry_secret=ignored`,
});
const errorEvent = (extra: Record<string, unknown> = {}) => ({
  exception: {
    values: [
      {
        type: 'ZeroDivisionError',
        value: 'division by zero',
        stacktrace: { frames: [{ filename: 'app.py', function: 'ratio', lineno: 3, in_app: true }] },
      },
    ],
  },
  level: 'error',
  ...extra,
});

describe('the official @sentry/node SDK', () => {
  it('reports exceptions, messages and logs that come back grouped, with stack traces', async () => {
    const u = await createUser(stack.web.ds);
    const dsn = `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${u.personal.id}`;
    // No runtime channel injection: it cannot work inside jest's module sandbox, and it says so loudly.
    Sentry.init({ dsn, defaultIntegrations: false, environment: 'staging', release: 'shop@2.0.0', enableRuntimeChannelInjection: false });
    try {
      function checkout(amount: number) {
        if (amount > 0) throw new TypeError(`cannot read basket ${amount}`);
      }
      for (const amount of [1, 2, 3]) {
        try {
          checkout(amount);
        } catch (err) {
          Sentry.captureException(err);
        }
        // The SDK stamps events in whole milliseconds: keep "the latest" well defined.
        await new Promise((r) => setTimeout(r, 5));
      }
      Sentry.captureMessage('Disk almost full', 'warning');
      Sentry.logger.warn('cache miss storm', { shard: 7 });
      expect(await Sentry.flush(5000)).toBe(true);
    } finally {
      await Sentry.close(2000);
    }

    const issues = await eventually(async () => {
      const b = await issuesOf(u);
      return b.count === 2 && b.results.some((i: { times_seen: number }) => i.times_seen === 3) ? b : null;
    });
    const typeError = issues.results.find((i: { title: string }) => i.title.startsWith('TypeError'));
    expect(typeError).toMatchObject({ title: 'TypeError: cannot read basket 3', times_seen: 3, level: 'error', status: 'unresolved' });
    expect(typeError.culprit).toMatch(/checkout/);
    const message = issues.results.find((i: { title: string }) => i.title === 'Disk almost full');
    expect(message).toMatchObject({ level: 'warning', times_seen: 1 });

    const events = (await get(u, `/api/issues/${typeError.id}/events/`)).body;
    expect(events.count).toBe(3);
    expect(events.results[0]).toMatchObject({
      exception_type: 'TypeError',
      environment: 'staging',
      tags: expect.objectContaining({ release: 'shop@2.0.0' }),
    });
    expect(events.results[0].stacktrace).toMatch(
      /Traceback \(most recent call last\):[\s\S]*in checkout[\s\S]*TypeError: cannot read basket/,
    );

    const logs = await eventually(async () => {
      const b = (await get(u, `/api/logs/?project=${u.personal.id}`)).body;
      return b.count === 1 ? b : null;
    });
    expect(logs.results[0]).toMatchObject({ message: 'cache miss storm', severity: 'WARNING', environment: 'staging' });
  });
});

describe('POST /api/{project_id}/envelope/', () => {
  it('accepts the key from X-Sentry-Auth, ?sentry_key= or the envelope DSN, and answers the event id', async () => {
    const u = await createUser(stack.web.ds);
    const body = (id: string) => envelope([[{ type: 'event' }, JSON.stringify(errorEvent({ event_id: id }))]]);
    const ids = ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)];
    const r1 = await post(`/api/${u.personal.id}/envelope/`, body(ids[0]), auth(u.apiKey));
    const r2 = await post(`/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}&sentry_version=7`, body(ids[1]));
    const r3 = await post(
      `/api/${u.personal.id}/envelope/`,
      envelope([[{ type: 'event' }, JSON.stringify(errorEvent({ event_id: ids[2] }))]], {
        dsn: `http://${u.apiKey}@faultline.test/${u.personal.id}`,
      }),
    );
    for (const [r, id] of [
      [r1, ids[0]],
      [r2, ids[1]],
      [r3, ids[2]],
    ] as const) {
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ id });
    }
    await eventually(async () => (await issuesOf(u)).results[0]?.times_seen === 3);
  });

  it("refuses a missing key (401), an unknown one (401), another project's (403)", async () => {
    const u = await createUser(stack.web.ds);
    const other = await createUser(stack.web.ds);
    const body = envelope([[{ type: 'event' }, JSON.stringify(errorEvent())]]);
    expect((await post(`/api/${u.personal.id}/envelope/`, body)).status).toBe(401);
    expect((await post(`/api/${u.personal.id}/envelope/`, body, auth('flk_unknown0000000000000000000000000'))).status).toBe(401);
    const wrong = await post(`/api/${u.personal.id}/envelope/`, body, auth(other.apiKey));
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-sentry-error')).toMatch(/another project/);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['zstd', (b: Buffer) => spawnSync('zstd', ['-q', '-c'], { input: b }).stdout as Buffer],
  ])('decodes %s bodies', async (encoding, compress) => {
    const u = await createUser(stack.web.ds);
    const compressed = compress(envelope([[{ type: 'event' }, JSON.stringify(errorEvent({ event_id: 'd'.repeat(32) }))]]));
    expect(compressed.length).toBeGreaterThan(0);
    const r = await post(`/api/${u.personal.id}/envelope/`, compressed, { ...auth(u.apiKey), 'Content-Encoding': encoding });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id: 'd'.repeat(32) });
  });

  it('skips unknown and unsupported items and still processes the ones after them', async () => {
    const u = await createUser(stack.web.ds);
    const body = envelope([
      [{ type: 'some_future_item', length: 4 }, 'abcd'],
      [{ type: 'session' }, JSON.stringify({ sid: 'x', status: 'ok' })],
      [{ type: 'client_report' }, '{}'],
      [{ type: 'event' }, JSON.stringify(errorEvent({ event_id: 'e'.repeat(32) }))],
      [{ type: 'log' }, JSON.stringify({ items: [{ timestamp: Date.now() / 1000, level: 'error', body: 'queue stuck' }] })],
    ]);
    const r = await post(`/api/${u.personal.id}/envelope/`, body, auth(u.apiKey));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id: 'e'.repeat(32) });
    const rows = await eventually(async () => {
      const x: Array<{ kind: string }> = await stack.web.ds.query('SELECT kind FROM events WHERE project_id = $1 ORDER BY kind', [
        u.personal.id,
      ]);
      return x.length === 2 ? x : null;
    });
    expect(rows.map((x) => x.kind)).toEqual(['error', 'log']);
  });

  it("stores user feedback (the widget's feedback item and the legacy user_report) as logs tied to their event", async () => {
    const u = await createUser(stack.web.ds);
    const about = 'f'.repeat(32);
    const body = envelope([
      [{ type: 'event' }, JSON.stringify(errorEvent({ event_id: about }))],
      [
        { type: 'feedback' },
        JSON.stringify({
          type: 'feedback',
          event_id: '1'.repeat(32),
          timestamp: Date.now() / 1000,
          environment: 'production',
          contexts: {
            feedback: {
              message: 'The checkout button does nothing',
              contact_email: 'ada@example.com',
              name: 'Ada',
              url: 'https://shop.example/cart',
              associated_event_id: about,
            },
          },
        }),
      ],
      [
        { type: 'user_report' },
        JSON.stringify({ event_id: about, name: 'Bob', email: 'bob@example.com', comments: 'It crashed when I paid' }),
      ],
      [{ type: 'user_report' }, JSON.stringify({ event_id: about, name: 'Empty', email: 'e@example.com', comments: '' })],
    ]);
    const r = await post(`/api/${u.personal.id}/envelope/`, body, auth(u.apiKey));
    expect(r.status).toBe(200);
    const logs = await eventually(async () => {
      const b = (await get(u, `/api/logs/?project=${u.personal.id}&source=user-feedback`)).body;
      return b.count === 2 ? b.results : null;
    });
    expect(logs.map((l: { message: string; severity: string }) => [l.message, l.severity]).sort()).toEqual([
      ['It crashed when I paid', 'INFO'],
      ['The checkout button does nothing', 'INFO'],
    ]);
    const rows = await stack.web.ds.query(
      `SELECT event_id, user_ref, tags, extra FROM events WHERE project_id = $1 AND service = 'user-feedback' ORDER BY message DESC`,
      [u.personal.id],
    );
    expect(rows[0]).toMatchObject({
      event_id: '1'.repeat(32),
      user_ref: 'ada@example.com',
      tags: { feedback: 'feedback', associated_event_id: about },
    });
    expect(rows[0].extra.feedback).toMatchObject({ name: 'Ada', url: 'https://shop.example/cart' });
    expect(rows[1]).toMatchObject({ user_ref: 'bob@example.com', tags: { feedback: 'user_report', associated_event_id: about } });
    expect(rows[1].event_id).not.toBe(about); // the report's own id, not the event's
    // Sent again (an SDK retry): nothing stored twice.
    expect((await post(`/api/${u.personal.id}/envelope/`, body, auth(u.apiKey))).status).toBe(200);
    await drained(stack.web.queues, ['events']); // the retry's job ran: a second row would be there now
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND service = 'user-feedback'`, [
      u.personal.id,
    ]);
    expect(n).toBe(2);
  });

  it('an envelope without an event answers {}; an oversized event item is 413; bad JSON is 400', async () => {
    const u = await createUser(stack.web.ds);
    const sessions = await post(`/api/${u.personal.id}/envelope/`, envelope([[{ type: 'sessions' }, '{"aggregates":[]}']]), auth(u.apiKey));
    expect(sessions.status).toBe(200);
    expect(await sessions.json()).toEqual({});
    const big = await post(
      `/api/${u.personal.id}/envelope/`,
      envelope([[{ type: 'event' }, JSON.stringify(errorEvent({ extra: { blob: 'x'.repeat(1_100_000) } }))]]),
      auth(u.apiKey),
    );
    expect(big.status).toBe(413);
    const bad = await post(`/api/${u.personal.id}/envelope/`, envelope([[{ type: 'event' }, '{not json']]), auth(u.apiKey));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('invalid_envelope');
  });

  it('answers browser SDKs cross-origin, preflight included', async () => {
    const u = await createUser(stack.web.ds);
    const pre = await fetch(`${base}/api/${u.personal.id}/envelope/`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const r = await post(
      `/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`,
      envelope([[{ type: 'event' }, JSON.stringify(errorEvent())]]),
      {
        Origin: 'https://shop.example',
        'Content-Type': 'text/plain;charset=UTF-8',
      },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });
});

describe('POST /api/{project_id}/store/', () => {
  it('takes a legacy JSON event', async () => {
    const u = await createUser(stack.web.ds);
    const r = await fetch(`${base}/api/${u.personal.id}/store/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...auth(u.apiKey) },
      body: JSON.stringify({ event_id: 'f'.repeat(32), message: 'legacy hello', level: 'info' }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id: 'f'.repeat(32) });
    await eventually(async () => (await issuesOf(u)).results[0]?.title === 'legacy hello');
  });
});

describe('issues', () => {
  it('seed 1 and seed 3 error events group with each other by message', async () => {
    const u = await createUser(stack.web.ds);
    await stack.http
      .post('/api/events/')
      .set('Authorization', `Bearer ${u.apiKey}`)
      .send({ message: 'Payment gateway timeout after 3000 ms', level: 'error' })
      .expect(202);
    await stack.http
      .post('/api/event-log/')
      .send({ api_key: u.apiKey, user_id: 'u1', message: 'Payment gateway timeout after 5000 ms', level: 'error' })
      .expect(202);
    const b = await eventually(async () => {
      const x = await issuesOf(u);
      return x.results[0]?.times_seen === 2 ? x : null;
    });
    expect(b.count).toBe(1);
  });

  it('a resolved issue that happens again reopens; re-delivered events are not counted twice', async () => {
    const u = await createUser(stack.web.ds);
    const send = (id: string) =>
      post(
        `/api/${u.personal.id}/envelope/`,
        envelope([[{ type: 'event' }, JSON.stringify(errorEvent({ event_id: id }))]]),
        auth(u.apiKey),
      );
    await send('1'.repeat(32));
    await send('1'.repeat(32)); // a client retry of the same event
    const issue = await eventually(async () => (await issuesOf(u)).results[0]);
    await eventually(async () => (await stack.web.queues.events.getJobCounts('waiting', 'active')).waiting === 0);
    expect((await get(u, `/api/issues/${issue.id}/`)).body.times_seen).toBe(1);

    const resolved = await stack.http
      .patch(`/api/issues/${issue.id}/`)
      .set('Authorization', `Bearer ${u.access}`)
      .send({ status: 'resolved' });
    expect(resolved.body).toMatchObject({ status: 'resolved', resolved_at: expect.any(String) });
    await send('2'.repeat(32));
    const reopened = await eventually(async () => {
      const b = (await get(u, `/api/issues/${issue.id}/`)).body;
      return b.times_seen === 2 ? b : null;
    });
    expect(reopened).toMatchObject({ status: 'unresolved', resolved_at: null });
  });

  it('counts stay exact with several workers storing the same issue at once', async () => {
    const u = await createUser(stack.web.ds);
    const second = await startWorker();
    try {
      const N = 400;
      await Promise.all(
        Array.from({ length: N / 20 }, (_, j) =>
          stack.http
            .post('/api/events/')
            .set('Authorization', `Bearer ${u.apiKey}`)
            .send(
              Array.from({ length: 20 }, (_, i) =>
                pantiesEvent({ event_id: `c-${j}-${i}`, stacktrace: null, exception_type: 'RaceError', message: 'same place' }),
              ),
            ),
        ),
      );
      const issue = await eventually(async () => {
        const b = await issuesOf(u);
        return b.results[0]?.times_seen === N ? b.results[0] : null;
      }, 30_000);
      expect(issue.times_seen).toBe(N);
      const [{ n }] = await stack.web.ds.query('SELECT count(*)::int AS n FROM events WHERE issue_id = $1', [issue.id]);
      expect(n).toBe(N);
    } finally {
      await second.close();
    }
  });

  it('tenancy: strangers get 404; viewers read but cannot change status', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    await stack.web.ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, 'viewer')`, [
      owner.personal.id,
      viewer.user.id,
    ]);
    await stack.http
      .post('/api/events/')
      .set('Authorization', `Bearer ${owner.apiKey}`)
      .send({ message: 'private', level: 'error' })
      .expect(202);
    const issue = await eventually(async () => (await issuesOf(owner)).results[0]);
    expect((await get(stranger, `/api/issues/${issue.id}/`)).status).toBe(404);
    expect((await get(stranger, `/api/issues/?project=${owner.personal.id}`)).status).toBe(404);
    expect((await get(stranger, '/api/issues/')).body.results.map((i: { id: number }) => i.id)).not.toContain(issue.id);
    expect((await get(viewer, `/api/issues/${issue.id}/events/`)).body.count).toBe(1);
    expect(
      (await stack.http.patch(`/api/issues/${issue.id}/`).set('Authorization', `Bearer ${viewer.access}`).send({ status: 'ignored' }))
        .status,
    ).toBe(403);
  });
});

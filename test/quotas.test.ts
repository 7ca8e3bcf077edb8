/**
 * Quotas and rate limits per project and per key, in Redis token buckets every web process
 * shares: the official @sentry/node SDK backing off on X-Sentry-Rate-Limits, per-key and
 * per-project limits, batches counted by their records (all or none), two web apps on one
 * bucket, and the overrides API.
 */
import './helpers/dumpsEnv.ts'; // first: this file's own DUMPS_DIR (minidumps and uploads below)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as Sentry from '@sentry/node';
import { request as httpRequest } from 'node:http';
import { createApiKey } from '../src/domain/projects/projects.ts';
import { countEvents, eventually, jobsAdded, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, inviteAndAccept, pantiesEvent, type TestUser } from './helpers/factories.ts';
import { buildMinidump } from './helpers/minidump.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
/** Sentry envelope requests that reached the server, by project id. */
const envelopes = new Map<string, number>();

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  stack.web.server.prependListener('request', (req) => {
    const m = /^\/api\/(\d+)\/envelope/.exec(req.url ?? '');
    if (m) envelopes.set(m[1], (envelopes.get(m[1]) ?? 0) + 1);
  });
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
});

const setQuotas = (u: TestUser, projectId: number, body: unknown, http = stack.http) =>
  http
    .put(`/api/projects/${projectId}/quotas/`)
    .set('Authorization', `Bearer ${u.access}`)
    .send(body as object);
const postEvent = (key: string, body: unknown = pantiesEvent(), http = stack.http) =>
  http
    .post('/api/events/')
    .set('Authorization', `Bearer ${key}`)
    .send(body as object);
const keyIdOf = async (projectId: number): Promise<number> =>
  (await stack.web.ds.query(`SELECT id FROM api_keys WHERE project_id = $1 ORDER BY id LIMIT 1`, [projectId]))[0].id;
const countLogs = async (projectId: number): Promise<number> =>
  (await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND kind = 'log'`, [projectId]))[0].n;

describe('the official @sentry/node SDK', () => {
  it('stops sending a category once X-Sentry-Rate-Limits names it, and keeps sending the others', async () => {
    const u = await createUser(stack.web.ds);
    const pid = String(u.personal.id);
    await setQuotas(u, u.personal.id, { project: { events_per_minute: 3 } }).expect(200);
    const dsn = `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${pid}`;
    Sentry.init({ dsn, defaultIntegrations: false, sendClientReports: false, enableRuntimeChannelInjection: false });
    try {
      for (let i = 0; i < 10; i++) {
        Sentry.captureException(new Error(`boom ${i}`));
        expect(await Sentry.flush(5000)).toBe(true);
      }
      // Three accepted, the fourth answered 429 + X-Sentry-Rate-Limits: the SDK dropped the other six itself.
      expect(envelopes.get(pid)).toBe(4);
      // Logs are another category: still sent, and kept.
      Sentry.logger.info('still here');
      expect(await Sentry.flush(5000)).toBe(true);
      expect(envelopes.get(pid)).toBe(5);
    } finally {
      await Sentry.close(2000);
    }
    await eventually(async () => (await countLogs(u.personal.id)) === 1 && (await countEvents(stack.web.ds, u.personal.id)) === 4); // 3 errors + 1 log
  });
});

function envelope(items: Array<[Record<string, unknown>, string]>) {
  return Buffer.from([JSON.stringify({}), ...items.flatMap(([h, p]) => [JSON.stringify(h), p])].join('\n') + '\n');
}
const sentryPost = (u: TestUser, body: Buffer) =>
  fetch(`${base}/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-sentry-envelope' },
  });

describe('Sentry envelopes', () => {
  it('keep the categories within quota and name the limited ones on a 200; 429 when all of it is limited', async () => {
    const u = await createUser(stack.web.ds);
    await setQuotas(u, u.personal.id, { project: { events_per_minute: 1 } }).expect(200);
    const event = JSON.stringify({ message: 'hello', level: 'error' });
    const log = JSON.stringify({ items: [{ timestamp: Date.now() / 1000, level: 'info', body: 'a log line' }] });
    expect((await sentryPost(u, envelope([[{ type: 'event' }, event]]))).status).toBe(200);

    const mixed = await sentryPost(
      u,
      envelope([
        [{ type: 'event' }, event],
        [{ type: 'log', item_count: 1, content_type: 'application/vnd.sentry.items.log+json' }, log],
      ]),
    );
    expect(mixed.status).toBe(200);
    expect(mixed.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:error;default;security:project:project_quota$/);
    await eventually(async () => (await countLogs(u.personal.id)) === 1);

    const only = await sentryPost(u, envelope([[{ type: 'event' }, event]]));
    expect(only.status).toBe(429);
    expect(Number(only.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(only.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:error;default;security:project:project_quota$/);
    await eventually(async () => (await countEvents(stack.web.ds, u.personal.id)) === 2); // the first event and the log
  });
});

describe('dump bytes per day', () => {
  it('a minidump is charged its size; past the limit the next is refused on its headers, naming the attachment category', async () => {
    const u = await createUser(stack.web.ds);
    const dump = buildMinidump();
    await setQuotas(u, u.personal.id, { project: { dump_bytes_per_day: Math.floor(dump.length / 2) } }).expect(200);
    const url = `${base}/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`;
    // A full bucket takes one dump bigger than the limit (it goes into debt) …
    expect((await fetch(url, { method: 'POST', body: dump })).status).toBe(200);
    // … and the next waits until the day's bucket has refilled.
    const refused = await fetch(url, { method: 'POST', body: dump });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-sentry-rate-limits')).toMatch(/^\d+:attachment:project:project_quota$/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3600);
    // With Expect: 100-continue the refusal comes before the client sends a byte of the dump.
    const early = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest(url, {
        method: 'POST',
        agent: false,
        headers: { Expect: '100-continue', 'Content-Length': String(dump.length) },
      });
      req.on('continue', () => {
        continued = true;
        req.end(dump);
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, continued }));
      });
      req.on('error', reject);
    });
    expect(early).toEqual({ status: 429, continued: false });
  });
});

describe('crash dump uploads', () => {
  it('are charged their bytes; once the day is used up the next upload is refused before it is stored', async () => {
    const u = await createUser(stack.web.ds);
    const { secret } = await createApiKey(stack.web.ds.manager, u.personal.id, {
      name: 'uploader',
      scopes: ['dumps:upload'],
      createdById: null,
    });
    const dump = buildMinidump();
    await setQuotas(u, u.personal.id, { project: { dump_bytes_per_day: dump.length } }).expect(200);
    await stack.http.post('/api/dumps/').set('Authorization', `Bearer ${secret}`).attach('file', dump, 'a.dmp').expect(201);
    const refused = await stack.http.post('/api/dumps/').set('Authorization', `Bearer ${secret}`).attach('file', dump, 'b.dmp');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate_limited', details: { category: 'dump_bytes', reason: 'project_quota' } });
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM crash_dumps WHERE project_id = $1`, [u.personal.id]);
    expect(n).toBe(1);
  });
});

describe('limits per key and per project', () => {
  it("a key's own limit refuses that key only; the project's limit refuses every key", async () => {
    const u = await createUser(stack.web.ds);
    const keyA = await keyIdOf(u.personal.id);
    const b = await createApiKey(stack.web.ds.manager, u.personal.id, { name: 'second', scopes: ['ingest'], createdById: u.user.id });
    await setQuotas(u, u.personal.id, { project: { events_per_minute: 5 }, keys: { [keyA]: { events_per_minute: 2 } } }).expect(200);

    for (let i = 0; i < 2; i++) await postEvent(u.apiKey).expect(202);
    const byKey = await postEvent(u.apiKey).expect(429);
    expect(byKey.body).toMatchObject({ code: 'rate_limited', details: { category: 'error', scope: 'key', reason: 'key_quota' } });
    expect(byKey.body.details.retry_after).toBeGreaterThan(0);
    expect(byKey.headers['retry-after']).toBe(String(byKey.body.details.retry_after));

    for (let i = 0; i < 3; i++) await postEvent(b.secret).expect(202);
    const byProject = await postEvent(b.secret).expect(429);
    expect(byProject.body.details).toMatchObject({ scope: 'project', reason: 'project_quota' });
    await eventually(async () => (await countEvents(stack.web.ds, u.personal.id)) === 5);
  });

  it('is checked on the headers: an exhausted bucket refuses before the body is read', async () => {
    const u = await createUser(stack.web.ds);
    await setQuotas(u, u.personal.id, { project: { events_per_minute: 1 } }).expect(200);
    await postEvent(u.apiKey).expect(202);
    const res = await stack.http
      .post('/api/events/')
      .set('Authorization', `Bearer ${u.apiKey}`)
      .set('Content-Type', 'application/json')
      .send('{not json');
    expect(res.status).toBe(429); // not 400: the body was never parsed
  });
});

describe('batches', () => {
  it('count every record, all or none: a batch that does not fit is refused whole and nothing is queued', async () => {
    const u = await createUser(stack.web.ds);
    await setQuotas(u, u.personal.id, { project: { events_per_minute: 100 } }).expect(200);
    await postEvent(
      u.apiKey,
      Array.from({ length: 60 }, () => pantiesEvent()),
    ).expect(202);
    const before = await jobsAdded(stack.web, 'events');
    const refused = await postEvent(
      u.apiKey,
      Array.from({ length: 60 }, () => pantiesEvent()),
    ).expect(429);
    expect(refused.body.details.category).toBe('error');
    expect(await jobsAdded(stack.web, 'events')).toBe(before);
    await postEvent(
      u.apiKey,
      Array.from({ length: 40 }, () => pantiesEvent()),
    ).expect(202);
    await postEvent(u.apiKey).expect(429);
    await eventually(async () => (await countEvents(stack.web.ds, u.personal.id)) === 100);
  });

  it('a batch larger than the whole limit gets through once, when the bucket is full', async () => {
    const u = await createUser(stack.web.ds);
    await setQuotas(u, u.personal.id, { project: { events_per_minute: 10 } }).expect(200);
    await postEvent(
      u.apiKey,
      Array.from({ length: 25 }, () => pantiesEvent()),
    ).expect(202);
    await postEvent(u.apiKey).expect(429);
  });

  it('OTLP logs: 429 with Retry-After, which exporters retry after the delay', async () => {
    const u = await createUser(stack.web.ds);
    await setQuotas(u, u.personal.id, { project: { logs_per_minute: 2 } }).expect(200);
    const body = (n: number) => ({
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: Array.from({ length: n }, (_, i) => ({
                timeUnixNano: String(Date.now() * 1e6),
                severityText: 'INFO',
                body: { stringValue: `line ${i}` },
              })),
            },
          ],
        },
      ],
    });
    const send = (n: number) =>
      fetch(`${base}/v1/logs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${u.apiKey}` },
        body: JSON.stringify(body(n)),
      });
    expect((await send(2)).status).toBe(200);
    const refused = await send(1);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('two web processes', () => {
  it('share one bucket through Redis', async () => {
    const other = await startWeb();
    try {
      const u = await createUser(stack.web.ds);
      await setQuotas(u, u.personal.id, { project: { events_per_minute: 4 } }).expect(200);
      await postEvent(u.apiKey).expect(202);
      await postEvent(u.apiKey, pantiesEvent(), other.http).expect(202);
      await postEvent(u.apiKey).expect(202);
      await postEvent(u.apiKey, pantiesEvent(), other.http).expect(202);
      await postEvent(u.apiKey, pantiesEvent(), other.http).expect(429);
      await postEvent(u.apiKey).expect(429);
    } finally {
      await other.web.close();
    }
  });
});

describe('GET|PUT /api/projects/{id}/quotas/', () => {
  it('admins and owners set overrides; members and viewers may only read them; bad input changes nothing', async () => {
    const owner = await createUser(stack.web.ds);
    const pid = owner.personal.id;
    const [admin, member, viewer] = [await createUser(stack.web.ds), await createUser(stack.web.ds), await createUser(stack.web.ds)];
    await inviteAndAccept(stack.http, pid, owner.access, admin, 'admin');
    await inviteAndAccept(stack.http, pid, owner.access, member, 'member');
    await inviteAndAccept(stack.http, pid, owner.access, viewer, 'viewer');
    const keyId = await keyIdOf(pid);

    expect((await setQuotas(member, pid, { project: { events_per_minute: 1 } })).status).toBe(403);
    expect((await setQuotas(viewer, pid, { project: { events_per_minute: 1 } })).status).toBe(403);
    const set = await setQuotas(admin, pid, {
      project: { events_per_minute: 7, spike_protection: false },
      keys: { [keyId]: { logs_per_minute: 9 } },
    }).expect(200);
    expect(set.body.project).toMatchObject({ events_per_minute: 7, spike_protection: false, logs_per_minute: null });
    expect(set.body.effective).toMatchObject({ events_per_minute: 7, spike_protection: false, logs_per_minute: 0 });
    expect(set.body.keys).toEqual([expect.objectContaining({ id: keyId, overrides: expect.objectContaining({ logs_per_minute: 9 }) })]);

    const bad = [
      { project: { events_per_minute: -1 } },
      { project: { events_per_minute: 5, bogus: 1 } },
      { project: { events_per_minute: 5 }, keys: { '999999999': { events_per_minute: 1 } } },
    ];
    for (const body of bad) {
      const res = await setQuotas(owner, pid, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: expect.any(String), code: expect.any(String) });
    }
    const read = await stack.http.get(`/api/projects/${pid}/quotas/`).set('Authorization', `Bearer ${member.access}`).expect(200);
    expect(read.body.project.events_per_minute).toBe(7);
    expect(read.body.defaults).toMatchObject({ events_per_minute: 0, spike_protection: true });

    const stranger = await createUser(stack.web.ds);
    expect((await stack.http.get(`/api/projects/${pid}/quotas/`).set('Authorization', `Bearer ${stranger.access}`)).status).toBe(404);
    expect((await setQuotas(stranger, pid, { project: {} })).status).toBe(404);
  });
});

describe('refusals', () => {
  it('are counted per project and category in /metrics and reach onRefused', async () => {
    const u = await createUser(stack.web.ds);
    const seen: unknown[] = [];
    stack.web.quotas.onRefused(
      (projectId, category, reason, quantity) => projectId === u.personal.id && seen.push({ category, reason, quantity }),
    );
    await setQuotas(u, u.personal.id, { project: { events_per_minute: 1 } }).expect(200);
    await postEvent(u.apiKey).expect(202);
    await postEvent(u.apiKey).expect(429);
    expect(seen).toEqual([{ category: 'error', reason: 'project_quota', quantity: 1 }]);
    const metrics = (await stack.http.get('/metrics')).text;
    expect(metrics).toContain(`faultline_quota_refused_total{project="${u.personal.id}",category="error",reason="project_quota"} 1`);
  });
});

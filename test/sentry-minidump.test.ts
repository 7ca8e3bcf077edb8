/**
 * Crashpad/Breakpad uploads and Sentry minidump attachments: stored through the crash
 * dumps pipeline and linked to an error event that groups like any other.
 */
import './helpers/dumpsEnv.ts';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { buildMinidump } from './helpers/minidump.ts';

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

const crash = () =>
  buildMinidump({
    platform: 2,
    arch: 9,
    exception: { threadId: 1, code: 0xc0000005, address: 0xdeadbeefn, params: [0n, 0x10n] },
    modules: ['C:\\Program Files\\Game\\game.exe', 'C:\\Windows\\System32\\ntdll.dll'],
  });

function crashpadForm(dump: Buffer, fields: Record<string, string>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('upload_file_minidump', new Blob([dump]), 'crash.dmp');
  return form;
}

async function eventOf(u: TestUser, eventId: string) {
  return eventually(async () => {
    const rows: Array<{
      event_type: string;
      exception_type: string;
      level: string;
      tags: Record<string, unknown>;
      extra: Record<string, any>;
      issue_id: string;
    }> = await stack.web.ds.query(
      'SELECT event_type, exception_type, level, tags, extra, issue_id FROM events WHERE project_id = $1 AND event_id = $2',
      [u.personal.id, eventId],
    );
    return rows[0];
  });
}

describe('POST /api/{project_id}/minidump/', () => {
  it('stores a Crashpad upload as a dump linked to an error event; answers the event id as a UUID', async () => {
    const u = await createUser(stack.web.ds);
    const dump = crash();
    const res = await fetch(`${base}/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`, {
      method: 'POST',
      body: crashpadForm(dump, {
        prod: 'Game',
        ver: '1.4.2',
        'sentry[release]': 'game@1.4.2',
        'sentry[tags][channel]': 'beta',
        sentry: JSON.stringify({ environment: 'production' }),
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const uuid = await res.text();
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const eventId = uuid.replaceAll('-', '');

    const event = await eventOf(u, eventId);
    expect(event).toMatchObject({ event_type: 'minidump', exception_type: 'EXCEPTION_ACCESS_VIOLATION', level: 'critical' });
    expect(event.tags).toMatchObject({ release: 'game@1.4.2', channel: 'beta', platform: 'native' });
    expect(event.extra).toMatchObject({
      prod: 'Game',
      ver: '1.4.2',
      minidump: { dump_id: expect.any(String), main_module: expect.stringContaining('game.exe') },
    });
    expect(event.issue_id).not.toBeNull();

    // The dump itself, through seed 4's API: labelled with the event id, same bytes.
    const byLabel = await stack.http.get(`/api/dumps/by-label/${eventId}/`).set('Authorization', `Bearer ${u.access}`);
    expect(byLabel.body.results).toHaveLength(1);
    expect(byLabel.body.results[0].id).toBe(event.extra.minidump.dump_id);
    const download = await fetch(`${base}/api/dumps/${byLabel.body.results[0].id}/download/`, {
      headers: { Authorization: `Bearer ${u.access}` },
    });
    expect(Buffer.from(await download.arrayBuffer()).equals(dump)).toBe(true);
  });

  it('takes a raw (and gzip-compressed) body too', async () => {
    const u = await createUser(stack.web.ds);
    const res = await fetch(`${base}/api/${u.personal.id}/minidump/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream', 'X-Sentry-Auth': `Sentry sentry_key=${u.apiKey}` },
      body: gzipSync(crash()),
    });
    expect(res.status).toBe(200);
    await eventOf(u, (await res.text()).replaceAll('-', ''));
  });

  it('refuses a file that is not a minidump (400) and keeps nothing; refuses a bad key (401) before storing', async () => {
    const u = await createUser(stack.web.ds);
    const bad = await fetch(`${base}/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`, {
      method: 'POST',
      body: crashpadForm(Buffer.from('not a dump at all'), {}),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('invalid_minidump');
    const anon = await fetch(`${base}/api/${u.personal.id}/minidump/`, { method: 'POST', body: crashpadForm(crash(), {}) });
    expect(anon.status).toBe(401);
    const [{ n }] = await stack.web.ds.query('SELECT count(*)::int AS n FROM crash_dumps WHERE project_id = $1', [u.personal.id]);
    expect(n).toBe(0);
  });

  it('crashes with the same exception in the same program group into one issue', async () => {
    const u = await createUser(stack.web.ds);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${base}/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`, {
        method: 'POST',
        body: crashpadForm(crash(), {}),
      });
      expect(r.status).toBe(200);
    }
    const issues = await eventually(async () => {
      const b = (await stack.http.get(`/api/issues/?project=${u.personal.id}`).set('Authorization', `Bearer ${u.access}`)).body;
      return b.results[0]?.times_seen === 2 ? b : null;
    });
    expect(issues.count).toBe(1);
    expect(issues.results[0].title).toMatch(/^EXCEPTION_ACCESS_VIOLATION: EXCEPTION_ACCESS_VIOLATION_READ at 0x[0-9a-f]+$/i);
  });
});

describe('envelope attachments of type event.minidump', () => {
  it("link the dump to the envelope's event", async () => {
    const u = await createUser(stack.web.ds);
    const eventId = 'ab'.repeat(16);
    const dump = crash();
    const body = Buffer.concat([
      Buffer.from(JSON.stringify({ event_id: eventId }) + '\n'),
      Buffer.from(
        JSON.stringify({ type: 'event' }) +
          '\n' +
          JSON.stringify({ event_id: eventId, level: 'fatal', message: 'native crash', platform: 'native' }) +
          '\n',
      ),
      Buffer.from(
        JSON.stringify({ type: 'attachment', length: dump.length, attachment_type: 'event.minidump', filename: 'upload.dmp' }) + '\n',
      ),
      dump,
      Buffer.from('\n'),
    ]);
    const res = await fetch(`${base}/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`, { method: 'POST', body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: eventId });
    const event = await eventOf(u, eventId);
    expect(event.extra.minidump.dump_id).toEqual(expect.any(String));
    const row = await stack.http.get(`/api/dumps/${event.extra.minidump.dump_id}/`).set('Authorization', `Bearer ${u.access}`);
    expect(row.body).toMatchObject({ label: eventId, original_name: 'upload.dmp' });
  });
});

/**
 * Hostile input that used to crash the web process or answer 500: NUL bytes in filters
 * and bodies, JSON nested thousands of levels deep, slow bodies, connection floods, and
 * the admin's bulk actions and inline page state. Limits are set before importing.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { unpack } from '../src/queues/pack.ts';

process.env.HTTP_BODY_TIMEOUT_MS = '1500';
process.env.HTTP_MAX_CONNECTIONS_PER_CLIENT = '20';
process.env.TRUST_PROXY = 'false'; // so 127.0.0.1 is a client like any other for the connection cap
const { eventually, jobsAdded, listen, startWeb } = await import('./helpers/stack.ts');
const { createProjectWithKey, createUser, PASSWORD } = await import('./helpers/factories.ts');
const { addMember, storeLogs } = await import('./helpers/logs.ts');
const { adminLogin } = await import('./helpers/adminHttp.ts');
const { pickPort } = await import('../src/devstack/process.ts');

let stack: Awaited<ReturnType<typeof startWeb>>;
let base: string;
beforeAll(async () => {
  stack = await startWeb();
  base = await listen(stack.web);
});
afterAll(async () => {
  await stack.web.close();
});

const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('a NUL byte in a filter or a path', () => {
  it('is a 400 naming the parameter, and the real web process stays up', async () => {
    const owner = await createUser(stack.web.ds);
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const [{ id: issueId }] = await stack.web.ds.query(
      `INSERT INTO issues (project_id, fingerprint, title, culprit, level, status, first_seen, last_seen, times_seen)
       VALUES ($1, 'nul-test', 't', 'c', 'error', 'unresolved', now(), now(), 1) RETURNING id`,
      [owner.personal.id],
    );
    // The web process exactly as `npm run web` runs it: today's crash was the process exiting.
    const port = await pickPort();
    const runner = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
    const child = spawn(process.execPath, [runner, 'web'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ADMIN_ENABLED: 'false' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const url = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => (await fetch(`${url}/healthz`)).ok, 30_000);
      const p = owner.personal.id;
      const paths: Array<[string, string]> = [
        [`/api/logs/?search=%00`, 'search'],
        [`/api/logs/?source=a%00b`, 'source'],
        [`/v1/api/logs/?search=%00`, 'search'],
        [`/api/logs/export/?search=%00`, 'search'],
        [`/api/event-logs/?user_id=%00`, 'user_id'],
        [`/api/llm-logs/?search=%00`, 'search'],
        [`/api/dumps/?label=%00`, 'label'],
        [`/api/dumps/by-label/%00/`, 'path'],
        [`/api/projects/${p}/events/?search=%00`, 'search'],
        [`/api/issues/${issueId}/events/?search=%00`, 'search'],
        [`/api/issues/?search=%00`, 'search'],
        [`/api/users/?search=%00`, 'search'],
      ];
      for (const [path, field] of paths) {
        const token = path.startsWith('/api/users') ? staff.access : owner.access;
        const r = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
        const body = (await r.json()) as { code: string; details: Array<{ path: string }> };
        expect([path, r.status, body.code]).toEqual([path, 400, 'invalid_text']);
        expect(body.details[0].path).toBe(field);
      }
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('a NUL byte in a JSON body', () => {
  it('is a 400 naming the field wherever the value would be saved or looked up, and nothing changes', async () => {
    const u = await createUser(stack.web.ds);
    const auth = `Bearer ${u.access}`;
    await storeLogs(stack.web.ds, u.personal.id, [{ message: 'original' }]);
    const [{ id: logId }] = await stack.web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND kind = 'log'`, [u.personal.id]);
    const [{ id: keyId }] = await stack.web.ds.query(`SELECT id FROM api_keys WHERE project_id = $1`, [u.personal.id]);
    const nul = 'a\u0000b';
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      ['patch', `/api/logs/${logId}/`, { message: nul }, 'message'],
      ['put', `/api/logs/${logId}/`, { message: 'x', severity: 'INFO', source: nul }, 'source'],
      ['patch', '/api/user/profile/', { first_name: nul }, 'first_name'],
      ['patch', `/api/projects/${u.personal.id}/`, { settings: { [nul]: true } }, 'settings.a\\u0000b'],
      ['patch', `/api/projects/${u.personal.id}/`, { description: nul }, 'description'],
      ['post', '/api/user-filter-preferences/', { name: 'f', filters: { search: nul } }, 'filters.search'],
      ['patch', `/api/apikeys/${keyId}/`, { name: nul }, 'name'],
      ['post', '/api/auth/login/', { email: u.user.email, password: nul }, 'password'],
      ['post', '/api/auth/register/', { email: `x${nul}@example.com`, password: PASSWORD }, 'email'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await stack.http[method as 'post'](path).set('Authorization', auth).send(body);
      expect([method, path, r.status, r.body.code, r.body.details?.[0]?.path]).toEqual([method, path, 400, 'invalid_text', field]);
    }
    const [log] = await stack.web.ds.query(`SELECT message, service FROM events WHERE id = $1`, [logId]);
    expect(log).toEqual({ message: 'original', service: 'auth_service' });
    const [me] = await stack.web.ds.query(`SELECT first_name FROM users WHERE id = $1`, [u.user.id]);
    expect(me.first_name).toBe('');
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM user_filter_preferences WHERE user_id = $1`, [u.user.id]);
    expect(n).toBe(0);
  });

  it('is kept as data when it is being ingested: a log line with NUL is accepted, NUL stored as U+FFFD', async () => {
    const u = await createUser(stack.web.ds);
    const r = await stack.http
      .post('/api/logs/')
      .set('Authorization', `Bearer ${u.access}`)
      .send({ message: 'before\u0000after', severity: 'INFO' });
    expect(r.status).toBe(202);
    // No worker runs in this file: the queued record shows what will be stored.
    const jobs = await stack.web.queues.events.getWaiting();
    const items = jobs.flatMap((j) => (unpack(j.data) as { items: Array<{ event_id: string; message: string }> }).items);
    expect(items.find((i) => i.event_id === r.body.event_id)?.message).toBe('before\uFFFDafter');
  });

  it('a dump label with NUL is refused', async () => {
    const u = await createUser(stack.web.ds);
    const r = await stack.http
      .patch('/api/dumps/00000000-0000-4000-8000-000000000000/')
      .set('Authorization', `Bearer ${u.access}`)
      .send({ label: 'x\u0000' });
    expect([r.status, r.body.code]).toEqual([400, 'invalid_text']);
  });
});

describe('JSON nested past the documented depth', () => {
  it('is a 400 too_deep on the JSON API, not a 500 from a stack overflow', async () => {
    const u = await createUser(stack.web.ds);
    for (const [method, path] of [
      ['patch', '/api/user/profile/'],
      ['post', '/api/user-filter-preferences/'],
      ['post', '/api/logs/'],
    ] as const) {
      const r = await stack.http[method](path)
        .set('Authorization', `Bearer ${u.access}`)
        .set('Content-Type', 'application/json')
        .send(deep(10_000));
      expect([path, r.status, r.body.code]).toEqual([path, 400, 'too_deep']);
    }
    // The lean ingest path and Sentry envelopes too (depth is checked before any recursive code runs).
    const jobsBefore = await jobsAdded(stack.web, 'events');
    const events = await stack.http
      .post('/api/events/')
      .set('Authorization', `Bearer ${u.apiKey}`)
      .set('Content-Type', 'application/json')
      .send(`{"message":"deep","extra":${deep(10_000)}}`);
    expect([events.status, events.body.code]).toEqual([400, 'too_deep']);
    const eventLog = await stack.http
      .post('/api/event-log/')
      .set('Content-Type', 'application/json')
      .send(`{"api_key":"${u.apiKey}","message":"m","metadata":${deep(10_000)}}`);
    expect([eventLog.status, eventLog.body.code]).toEqual([400, 'too_deep']);
    const envelope = `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event"}\n{"message":"deep","extra":${deep(10_000)}}\n`;
    const sentry = await stack.http
      .post(`/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`)
      .set('Content-Type', 'application/x-sentry-envelope')
      .send(envelope);
    expect([sentry.status, sentry.body.code]).toEqual([400, 'too_deep']);
    expect(await jobsAdded(stack.web, 'events')).toBe(jobsBefore);
    // Reasonable nesting is fine.
    const ok = await stack.http
      .post('/api/user-filter-preferences/')
      .set('Authorization', `Bearer ${u.access}`)
      .send({ name: 'nested', filters: JSON.parse(deep(50)) });
    expect(ok.status).toBe(201);
  });
});

describe('GET /api/apikeys/?project=', () => {
  it('is 404 for a project the caller cannot see and 403 for one they only view, like every other project route', async () => {
    const owner = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    await addMember(stack.web.ds, owner.personal.id, viewer.user.id, 'viewer');
    const list = (t: string) => stack.http.get(`/api/apikeys/?project=${owner.personal.id}`).set('Authorization', `Bearer ${t}`);
    expect((await list(stranger.access)).status).toBe(404);
    expect((await list(viewer.access)).status).toBe(403);
    const mine = await list(owner.access);
    expect(mine.status).toBe(200);
    expect(mine.body.count).toBe(1);
  });
});

/** A raw HTTP request whose body arrives only partly; resolves with what the server answered (or '' if it just closed). */
function stalledRequest(head: string, partialBody: string): { socket: Socket; answer: Promise<string> } {
  const { port } = new URL(base);
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(head + partialBody);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });
  return { socket, answer };
}

describe('slow request bodies', () => {
  it('a JSON request that stops sending its body gets 408 and its connection closed; a dump upload may take longer', async () => {
    const u = await createUser(stack.web.ds);
    const host = new URL(base).host;
    // Both start now; the dump upload is not subject to HTTP_BODY_TIMEOUT_MS.
    const upload = stalledRequest(
      `POST /api/dumps/ HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${u.access}\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 1000\r\n\r\n`,
      '--XX\r\n',
    );
    const slow = stalledRequest(
      `PATCH /api/user/profile/ HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${u.access}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
      '{"first_name": ',
    );
    const answer = await slow.answer; // closed by the server, not by us
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"request_timeout"');
    // The upload outlived that deadline: its socket is still open.
    expect(upload.socket.destroyed).toBe(false);
    upload.socket.destroy();
  });
});

describe('connections per client address', () => {
  it('past HTTP_MAX_CONNECTIONS_PER_CLIENT, new connections are closed at once; closing one frees a slot', async () => {
    const { port } = new URL(base);
    const open = async () => {
      const s = connect(Number(port), '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const held: Socket[] = [];
    for (let i = 0; i < 20; i++) held.push(await open());
    try {
      const extra = await open();
      await new Promise((r) => extra.once('close', r)); // the server hung up on it
      held.pop()!.destroy();
      await eventually(async () => {
        const again = await open();
        const r = await new Promise<string>((resolve) => {
          let text = '';
          again.on('data', (d) => (text += d.toString()));
          again.on('close', () => resolve(text));
          again.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        });
        return r.startsWith('HTTP/1.1 200');
      });
    } finally {
      for (const s of held) s.destroy();
    }
  });
});

describe('the admin', () => {
  it("escapes a user's own </script> in the page state, and answers 404 to a bulk action on ids out of scope", async () => {
    const u = await createUser(stack.web.ds);
    const other = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, other.user, 'Not yours');
    await stack.web.ds.query(`UPDATE users SET first_name = $2 WHERE id = $1`, [u.user.id, '</script><script>window.pwned=1</script>']);
    const { agent, base: adminBase } = await adminLogin(stack.web, u.user.email);
    const page = await agent.get('/admin');
    expect(page.status).toBe(200);
    const state = page.text.split('\n').find((l) => l.includes('window.REDUX_STATE = '))!;
    expect(state).not.toContain('</script>');
    expect(state).toContain('\\u003c/script>');
    const json = state
      .trim()
      .replace(/^window\.REDUX_STATE = /, '')
      .replace(/;$/, '');
    expect(JSON.stringify(JSON.parse(json))).toContain('</script><script>window.pwned=1</script>'); // the same text once parsed

    const bulk = await agent.post(`/admin/api/resources/Project/bulk/bulkDelete?recordIds=${project.id}`).set('Origin', adminBase);
    expect(bulk.status).toBe(404);
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM projects WHERE id = $1`, [project.id]);
    expect(n).toBe(1);
  });
});

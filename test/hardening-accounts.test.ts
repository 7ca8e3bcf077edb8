/**
 * Sessions that end when they should (token_version), on REST and on open live-tail
 * sockets, and login limits that a stranger cannot turn into a lockout of the owner.
 */
import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { AuthRateLimiter } from '../src/domain/accounts/rateLimit.ts';
import { unauthorized } from '../src/domain/errors.ts';
import { LiveTail } from '../src/live/hub.ts';
import { createProjectWithKey, createUser, PASSWORD, type TestUser } from './helpers/factories.ts';
import { seed2Log } from './helpers/logs.ts';
import { env, eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
// A live tail whose periodic re-check never comes during the test: whatever closes its
// sockets here is the access-change notice, not the sweep.
let hub: LiveTail;
let hubServer: Server;
let wsBase: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  hub = new LiveTail(stack.web.access, { redisUrl: env().redisUrl, maxBufferedBytes: 1 << 20, pingIntervalMs: 600_000 });
  hubServer = createServer((_req, res) => res.end());
  hub.attach(hubServer);
  await new Promise<void>((resolve) => hubServer.listen(0, '127.0.0.1', resolve));
  wsBase = `ws://127.0.0.1:${(hubServer.address() as { port: number }).port}`;
  await Promise.all([hub.ready, stack.web.live.ready]);
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await hub.close();
  await new Promise((resolve) => hubServer.close(resolve));
  await worker.close();
  await stack.web.close();
});

const bearer = (u: { access: string } | string) => `Bearer ${typeof u === 'string' ? u : u.access}`;
const me = (access: string) => stack.http.get('/api/auth/user/').set('Authorization', bearer(access));
const login = (email: string, password = PASSWORD) => stack.http.post('/api/auth/login/').send({ email, password });
const profile = (access: string, body: object) => stack.http.patch('/api/user/profile/').set('Authorization', bearer(access)).send(body);
const NEW_PASSWORD = 'a brand new passphrase';

describe('a password change ends every session at once', () => {
  it('access tokens issued before answer 401 token_revoked, even to change the password back; a new login works', async () => {
    const u = await createUser(stack.web.ds);
    await profile(u.access, { password: NEW_PASSWORD, current_password: PASSWORD }).expect(200);
    const old = await me(u.access);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('token_revoked');
    const back = await profile(u.access, { password: PASSWORD, current_password: NEW_PASSWORD });
    expect(back.status).toBe(401);
    expect((await login(u.user.email, PASSWORD)).status).toBe(401); // the change back did not happen
    const fresh = await login(u.user.email, NEW_PASSWORD);
    expect(fresh.status).toBe(200);
    await me(fresh.body.access).expect(200);
  });

  it('a refresh token from before the change is refused by its version, even if its row were not revoked', async () => {
    const u = await createUser(stack.web.ds);
    await profile(u.access, { password: NEW_PASSWORD, current_password: PASSWORD }).expect(200);
    await stack.web.ds.query(`UPDATE refresh_tokens SET revoked_at = NULL WHERE user_id = $1`, [u.user.id]);
    const res = await stack.http.post('/api/auth/refresh/').send({ refresh: u.refresh });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('token_revoked');
  });
});

describe('deactivation by staff', () => {
  it('deactivate then reactivate: the old tokens stay dead, a new login works', async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const u = await createUser(stack.web.ds);
    const patch = (body: object) => stack.http.patch(`/api/users/${u.user.id}/`).set('Authorization', bearer(staff)).send(body).expect(200);
    await patch({ is_active: false });
    await patch({ is_active: true });
    expect((await me(u.access)).body.code).toBe('token_revoked');
    expect((await stack.http.post('/api/auth/refresh/').send({ refresh: u.refresh })).status).toBe(401);
    const fresh = await login(u.user.email);
    expect(fresh.status).toBe(200);
    await me(fresh.body.access).expect(200);
  });
});

describe('changing the email needs the current password', () => {
  it('without it or with a wrong one: 400 and nothing changes; with it: changed, and old tokens end', async () => {
    const u = await createUser(stack.web.ds);
    const newEmail = `moved-${u.user.email}`;
    for (const body of [{ email: newEmail }, { email: newEmail, current_password: 'not my password' }]) {
      const res = await profile(u.access, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: expect.any(String), code: 'invalid_current_password', details: expect.anything() });
    }
    expect((await stack.http.get('/api/user/profile/').set('Authorization', bearer(u))).body.email).toBe(u.user.email);
    // sending the email one already has (seed 3 clients PUT the whole profile) needs nothing
    await profile(u.access, { email: u.user.email.toUpperCase(), first_name: 'Same' }).expect(200);

    const moved = await profile(u.access, { email: newEmail, current_password: PASSWORD });
    expect(moved.status).toBe(200);
    expect(moved.body.email).toBe(newEmail);
    expect((await me(u.access)).body.code).toBe('token_revoked');
    expect((await login(newEmail)).status).toBe(200);
  });
});

interface Received {
  messages: Array<{ type: string; log?: { message: string; project: number } }>;
  closed: Promise<{ code: number }>;
}

function connect(url: string): Received {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const messages: Received['messages'] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  ws.on('error', () => undefined);
  return { messages, closed: new Promise((resolve) => ws.on('close', (code) => resolve({ code }))) };
}

const established = (c: Received) => eventually(async () => c.messages.find((m) => m.type === 'connection_established'));
const logsOf = (c: Received) => c.messages.filter((m) => m.type === 'log_created').map((m) => m.log!.message);
/** Waits for `p`, failing after `ms`: the socket would otherwise be closed only by the (10 minute) sweep. */
const within = <T>(p: Promise<T>, ms = 10_000) =>
  Promise.race([p, new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms).unref())]);
const postLog = (u: TestUser, body: Record<string, unknown>) =>
  stack.http.post('/api/logs/').set('Authorization', bearer(u)).send(seed2Log(body)).expect(202);

describe('open live-tail sockets hear of access changes at once', () => {
  it('a password change closes the socket with 4001; its token is refused at the next handshake', async () => {
    const u = await createUser(stack.web.ds);
    const c = connect(`${wsBase}/ws/logs/?token=${u.access}`);
    await established(c);
    await profile(u.access, { password: NEW_PASSWORD, current_password: PASSWORD }).expect(200);
    expect((await within(c.closed)).code).toBe(4001);
    const again = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsBase}/ws/logs/?token=${u.access}`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
      sockets.push(ws);
    });
    expect(again).toBe(401);
  });

  it('a deactivation closes the socket with 4001', async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const u = await createUser(stack.web.ds);
    const c = connect(`${wsBase}/ws/logs/?token=${u.access}`);
    await established(c);
    await stack.http.patch(`/api/users/${u.user.id}/`).set('Authorization', bearer(staff)).send({ is_active: false }).expect(200);
    expect((await within(c.closed)).code).toBe(4001);
  });

  it('a removed member: the socket on that project closes with 4004; the other gets nothing more from it', async () => {
    const owner = await createUser(stack.web.ds);
    const member = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Live shared');
    const [membership] = await stack.web.ds.query(
      `INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, 'viewer') RETURNING id`,
      [project.id, member.user.id],
    );
    const ownerSocket = connect(`${wsBase}/ws/logs/?token=${owner.access}&project=${project.id}`);
    const everything = connect(`${wsBase}/ws/logs/?token=${member.access}`);
    const justThat = connect(`${wsBase}/ws/logs/?token=${member.access}&project=${project.id}`);
    await Promise.all([established(ownerSocket), established(everything), established(justThat)]);
    await postLog(owner, { project: project.id, message: 'before removal' });
    await eventually(async () => logsOf(everything).includes('before removal') && logsOf(justThat).includes('before removal'));

    await stack.http.delete(`/api/projects/${project.id}/members/${membership.id}/`).set('Authorization', bearer(owner)).expect(204);
    expect((await within(justThat.closed)).code).toBe(4004);
    await postLog(owner, { project: project.id, message: 'after removal' });
    await eventually(async () => logsOf(ownerSocket).includes('after removal'));
    // Published after the project's log was fanned out: once it arrives, the other would have too.
    await postLog(member, { message: 'my own log' });
    await eventually(async () => logsOf(everything).includes('my own log'));
    expect(logsOf(everything)).toEqual(['before removal', 'my own log']);
  });
});

/** A POST from a given loopback address (127.0.0.x), so one test has two clients. */
function postFrom(localAddress: string, path: string, body: string, headers: Record<string, string>) {
  const url = new URL(path, base);
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const apiLogin = (from: string, email: string, password: string) =>
  postFrom(from, '/api/auth/login/', JSON.stringify({ email, password }), { 'content-type': 'application/json' });
const adminLogin = (from: string, email: string, password: string) =>
  postFrom(from, '/admin/login', new URLSearchParams({ email, password }).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    origin: base,
  });

describe('failed logins lock the client, never the account', () => {
  it("ten wrong passwords from one address do not stop the owner's right password from another", async () => {
    const u = await createUser(stack.web.ds);
    for (let i = 0; i < 10; i++) expect((await apiLogin('127.0.0.1', u.user.email, 'wrong password')).status).toBe(401);
    const attacker = await apiLogin('127.0.0.1', u.user.email, PASSWORD);
    expect(attacker.status).toBe(429);
    expect(Number(attacker.headers['retry-after'])).toBeGreaterThan(0);
    const owner = await apiLogin('127.0.0.2', u.user.email, PASSWORD);
    expect(owner.status).toBe(200);
    expect(JSON.parse(owner.text)).toMatchObject({ access: expect.any(String), user: { id: u.user.id } });
  });

  it('the admin login too: staff attacked from one address still sign in from another', async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    for (let i = 0; i < 10; i++) await adminLogin('127.0.0.1', staff.user.email, 'wrong password');
    expect((await adminLogin('127.0.0.1', staff.user.email, PASSWORD)).text).toContain('Too many attempts');
    const owner = await adminLogin('127.0.0.2', staff.user.email, PASSWORD);
    expect(owner.status).toBe(302);
    expect(owner.headers.location).toBe('/admin');
  });

  it("a stolen access token cannot guess the current password: the profile's check has the login's limits", async () => {
    const u = await createUser(stack.web.ds);
    for (let i = 0; i < 10; i++)
      expectError(await profile(u.access, { password: NEW_PASSWORD, current_password: `guess ${i}` }), 400, 'invalid_current_password');
    const blocked = await profile(u.access, { password: NEW_PASSWORD, current_password: PASSWORD });
    expect(blocked.status).toBe(429);
    expect((await apiLogin('127.0.0.2', u.user.email, PASSWORD)).status).toBe(200); // nothing changed; the owner elsewhere is not locked out
  });

  it('per account, failures from many addresses only slow attempts down (a growing, capped delay)', async () => {
    const limiter = new AuthRateLimiter(stack.web.redis, {
      windowSeconds: 60,
      perIp: 1000,
      perAccount: 2,
      maxDelayMs: 1000,
      keyPrefix: `${process.env.QUEUE_PREFIX}-slow`,
    });
    const account = 'victim@example.com';
    const wrong = () => Promise.reject(unauthorized('Invalid email or password', 'invalid_credentials'));
    const fail = (ip: string) => expect(limiter.guard(account, ip, wrong)).rejects.toMatchObject({ status: 401 });
    await fail('203.0.113.1');
    await fail('203.0.113.1');
    await expect(limiter.guard(account, '203.0.113.1', wrong)).rejects.toMatchObject({ status: 429 });
    expect(await limiter.delayMs(account)).toBe(250);
    await fail('203.0.113.2');
    expect(await limiter.delayMs(account)).toBe(500);
    await fail('203.0.113.3');
    await fail('203.0.113.3');
    expect(await limiter.delayMs(account)).toBe(1000); // capped
    // never refused for a client that has not failed itself, and a success clears the slowdown
    await expect(limiter.guard(account, '198.51.100.7', async () => 'ok')).resolves.toBe('ok');
    expect(await limiter.delayMs(account)).toBe(0);
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuthRateLimiter } from '../src/domain/accounts/rateLimit.ts';
import { eventually, startWeb } from './helpers/stack.ts';
import { createUser, inviteAndAccept, PASSWORD, pantiesEvent, uniqueEmail } from './helpers/factories.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

const login = (email: string, password = PASSWORD) => stack.http.post('/api/auth/login/').send({ email, password });
const me = (access: string) => stack.http.get('/api/auth/user/').set('Authorization', `Bearer ${access}`);
const refresh = (token: string) => stack.http.post('/api/auth/refresh/').send({ refresh: token });

describe('refresh tokens', () => {
  it('rotate: each refresh answers a new pair and spends the old refresh token', async () => {
    const u = await createUser(stack.web.ds);
    const first = await refresh(u.refresh);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ access: expect.any(String), refresh: expect.any(String) });
    expect(first.body.refresh).not.toBe(u.refresh);
    await me(first.body.access).expect(200);
    expect((await refresh(first.body.refresh)).status).toBe(200);
  });

  it('a reused (already rotated) refresh token is refused and ends the whole session', async () => {
    const u = await createUser(stack.web.ds);
    const rotated = await refresh(u.refresh);
    const reuse = await refresh(u.refresh);
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('token_reused');
    // the legitimate newer token of the same session is revoked too
    expect((await refresh(rotated.body.refresh)).body.code).toBe('token_revoked');
  });

  it('logout revokes the refresh token; other sessions live on', async () => {
    const u = await createUser(stack.web.ds);
    const other = await login(u.user.email);
    await stack.http.post('/api/auth/logout/').send({ refresh: u.refresh }).expect(204);
    expect((await refresh(u.refresh)).status).toBe(401);
    expect((await refresh(other.body.refresh)).status).toBe(200);
  });
});

describe('password change and deactivation', () => {
  it('a new password needs the current one, ends every session, and the old password stops working', async () => {
    const u = await createUser(stack.web.ds);
    const auth = `Bearer ${u.access}`;
    const missing = await stack.http.patch('/api/user/profile/').set('Authorization', auth).send({ password: 'brand new passphrase' });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('invalid_current_password');
    await stack.http
      .patch('/api/user/profile/')
      .set('Authorization', auth)
      .send({ password: 'brand new passphrase', current_password: PASSWORD })
      .expect(200);
    expect((await refresh(u.refresh)).status).toBe(401);
    expect((await login(u.user.email)).status).toBe(401);
    expect((await login(u.user.email, 'brand new passphrase')).status).toBe(200);
  });

  it('a user deactivated by staff is out at the next request: access, refresh and login all refused', async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const u = await createUser(stack.web.ds);
    await me(u.access).expect(200);
    await stack.http
      .patch(`/api/users/${u.user.id}/`)
      .set('Authorization', `Bearer ${staff.access}`)
      .send({ is_active: false })
      .expect(200);
    expect((await me(u.access)).status).toBe(401);
    expect((await refresh(u.refresh)).status).toBe(401);
    expect((await login(u.user.email)).status).toBe(401);
  });
});

describe('login rate limits', () => {
  it('too many failed logins for one account from one client answer 429 with Retry-After there, even with the right password', async () => {
    const u = await createUser(stack.web.ds);
    for (let i = 0; i < 10; i++) expect((await login(u.user.email, 'wrong password')).status).toBe(401);
    const blocked = await login(u.user.email);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body.code).toBe('rate_limited');
    // a different account from the same IP is unaffected
    const other = await createUser(stack.web.ds);
    expect((await login(other.user.email)).status).toBe(200);
  });

  it('per IP, across web processes (the counter lives in Redis)', async () => {
    const opts = { windowSeconds: 60, perIp: 3, perAccount: 100, keyPrefix: `${process.env.QUEUE_PREFIX}-ip` };
    const a = new AuthRateLimiter(stack.web.redis, opts);
    const b = new AuthRateLimiter(stack.web.redis, opts); // another process's limiter
    await a.hitIp('203.0.113.9');
    await b.hitIp('203.0.113.9');
    await a.hitIp('203.0.113.9');
    await expect(b.hitIp('203.0.113.9')).rejects.toMatchObject({ status: 429, headers: { 'Retry-After': expect.any(String) } });
    await expect(a.hitIp('198.51.100.1')).resolves.toBeUndefined();
  });
});

describe('API keys', () => {
  it('the secret is shown once on creation; the key defaults to the personal project and both scopes', async () => {
    const u = await createUser(stack.web.ds);
    const auth = `Bearer ${u.access}`;
    const created = await stack.http.post('/api/apikeys/').set('Authorization', auth).send({ name: 'backend' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      project: u.personal.id,
      name: 'backend',
      scopes: ['ingest', 'dumps:upload'],
      revoked_at: null,
      is_active: true,
    });
    expect(created.body.key).toMatch(/^flk_\w{32}$/);
    expect(created.body.key.startsWith(created.body.prefix)).toBe(true);
    const listed = await stack.http.get('/api/apikeys/').set('Authorization', auth);
    expect(listed.body.results.map((k: { id: number }) => k.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    const one = await stack.http.get(`/api/apikeys/${created.body.id}/`).set('Authorization', auth);
    expect(one.body).not.toHaveProperty('key');
  });

  it('a key without the ingest scope cannot ingest (403)', async () => {
    const u = await createUser(stack.web.ds);
    const k = await stack.http
      .post('/api/apikeys/')
      .set('Authorization', `Bearer ${u.access}`)
      .send({ scopes: ['dumps:upload'] });
    const res = await stack.http.post('/api/events/').set('Authorization', `Bearer ${k.body.key}`).send(pantiesEvent());
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('scope_missing');
  });

  it('a revoked key stops working at once here and within seconds on every other web process', async () => {
    const other = await startWeb(); // a second API instance with its own key cache
    try {
      const u = await createUser(stack.web.ds);
      const k = await stack.http
        .post('/api/apikeys/')
        .set('Authorization', `Bearer ${u.access}`)
        .send({ scopes: ['ingest'] });
      const ingest = (http: typeof stack.http) =>
        http.post('/api/events/').set('Authorization', `Bearer ${k.body.key}`).send(pantiesEvent());
      expect((await ingest(stack.http)).status).toBe(202);
      expect((await ingest(other.http)).status).toBe(202); // now cached over there
      await stack.http.delete(`/api/apikeys/${k.body.id}/`).set('Authorization', `Bearer ${u.access}`).expect(204);
      expect((await ingest(stack.http)).status).toBe(401);
      await eventually(async () => (await ingest(other.http)).status === 401, 15_000, 250);
      const shown = await stack.http.get(`/api/apikeys/${k.body.id}/`).set('Authorization', `Bearer ${u.access}`);
      expect(shown.body).toMatchObject({ is_active: false, revoked_at: expect.any(String) });
    } finally {
      await other.web.close();
    }
  });
});

describe('API keys: update (seed 3, a DRF ModelViewSet)', () => {
  it('PUT and PATCH rename; {"is_active": false} revokes; a revoked key cannot be reactivated', async () => {
    const u = await createUser(stack.web.ds);
    const auth = `Bearer ${u.access}`;
    const k = await stack.http
      .post('/api/apikeys/')
      .set('Authorization', auth)
      .send({ name: 'old', scopes: ['ingest'] });
    const put = await stack.http.put(`/api/apikeys/${k.body.id}`).set('Authorization', auth).send({ name: 'renamed' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: k.body.id, name: 'renamed', scopes: ['ingest'], is_active: true });
    expectError(
      await stack.http.put(`/api/apikeys/${k.body.id}/`).set('Authorization', auth).send({ key: 'flk_x' }),
      400,
      'validation_error',
    );
    const ingest = () => stack.http.post('/api/events/').set('Authorization', `Bearer ${k.body.key}`).send(pantiesEvent());
    expect((await ingest()).status).toBe(202);

    const off = await stack.http.patch(`/api/apikeys/${k.body.id}/`).set('Authorization', auth).send({ is_active: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ name: 'renamed', is_active: false, revoked_at: expect.any(String) });
    expect((await ingest()).status).toBe(401);
    const on = await stack.http.put(`/api/apikeys/${k.body.id}/`).set('Authorization', auth).send({ is_active: true });
    expect(on.status).toBe(409);
    expect(on.body.code).toBe('key_revoked');
    // a stranger's PUT is 404, like any key of a project they cannot see
    const stranger = await createUser(stack.web.ds);
    expect(
      (await stack.http.put(`/api/apikeys/${k.body.id}/`).set('Authorization', `Bearer ${stranger.access}`).send({ name: 'x' })).status,
    ).toBe(404);
  });
});

describe('machine clients (seed 4)', () => {
  it('client-token trades a dumps:upload key for a short-lived token that is not a user token', async () => {
    const u = await createUser(stack.web.ds);
    const k = await stack.http
      .post('/api/apikeys/')
      .set('Authorization', `Bearer ${u.access}`)
      .send({ scopes: ['dumps:upload'] });
    const res = await stack.http.post('/api/auth/client-token/').send({ client_secret: k.body.key });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['access']);
    const claims = JSON.parse(Buffer.from(res.body.access.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ typ: 'machine', pid: u.personal.id, kid: k.body.id });
    expect(claims.exp - claims.iat).toBe(300);
    const asUser = await me(res.body.access);
    expect(asUser.status).toBe(403);
    expect(asUser.body.code).toBe('machine_token_not_allowed');
  });

  it('refuses an unknown secret (401) and a key without dumps:upload (403)', async () => {
    const u = await createUser(stack.web.ds);
    expect((await stack.http.post('/api/auth/client-token/').send({ client_secret: 'nope' })).status).toBe(401);
    const ingestOnly = await stack.http.post('/api/auth/client-token/').send({ client_secret: u.apiKey });
    expect(ingestOnly.status).toBe(403);
  });
});

describe('projects and members (seed 1 roles)', () => {
  it('invites by email; nothing is granted until the invitee accepts; roles change; members are removed', async () => {
    const owner = await createUser(stack.web.ds);
    const friend = await createUser(stack.web.ds);
    const auth = `Bearer ${owner.access}`;
    const path = `/api/projects/${owner.personal.id}/members/`;
    const invited = await stack.http.post(path).set('Authorization', auth).send({ email: friend.user.email.toUpperCase(), role: 'viewer' });
    expect(invited.status).toBe(201);
    expect(invited.body).toMatchObject({
      email: friend.user.email,
      role: 'viewer',
      status: 'pending',
      project: { id: owner.personal.id },
      invited_by: { id: owner.user.id },
    });
    expect((await stack.http.get(`/api/projects/${owner.personal.id}/`).set('Authorization', `Bearer ${friend.access}`)).status).toBe(404);
    expect((await stack.http.post(path).set('Authorization', auth).send({ email: owner.user.email, role: 'admin' })).status).toBe(409);

    const accepted = await stack.http.post(`/api/invitations/${invited.body.id}/accept/`).set('Authorization', `Bearer ${friend.access}`);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({
      status: 'accepted',
      member: { role: 'viewer', user: { id: friend.user.id, email: friend.user.email }, invited_by: owner.user.id },
    });
    const memberId = accepted.body.member.id;
    expect((await stack.http.post(path).set('Authorization', auth).send({ email: friend.user.email, role: 'admin' })).status).toBe(409);

    const list = await stack.http.get(path).set('Authorization', `Bearer ${friend.access}`);
    expect(list.body.results.map((m: { role: string }) => m.role)).toEqual(['owner', 'viewer']);
    await stack.http.patch(`${path}${memberId}/`).set('Authorization', auth).send({ role: 'member' }).expect(200);
    expect((await stack.http.get(`/api/projects/${owner.personal.id}/`).set('Authorization', `Bearer ${friend.access}`)).body.role).toBe(
      'member',
    );
    await stack.http.delete(`${path}${memberId}/`).set('Authorization', auth).expect(204);
    expect((await stack.http.get(`/api/projects/${owner.personal.id}/`).set('Authorization', `Bearer ${friend.access}`)).status).toBe(404);
  });

  it('the owner transfers a project to a member and stays on as admin', async () => {
    const owner = await createUser(stack.web.ds);
    const heir = await createUser(stack.web.ds);
    const auth = `Bearer ${owner.access}`;
    const p = await stack.http.post('/api/projects/').set('Authorization', auth).send({ name: 'Heirloom' });
    const notYet = await stack.http.patch(`/api/projects/${p.body.id}/`).set('Authorization', auth).send({ owner: heir.user.id });
    expectError(notYet, 400, 'not_a_member');
    await inviteAndAccept(stack.http, p.body.id, owner.access, heir, 'member');
    const moved = await stack.http.patch(`/api/projects/${p.body.id}/`).set('Authorization', auth).send({ owner: heir.user.id });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ owner: heir.user.id, role: 'admin' });
    expect((await stack.http.get(`/api/projects/${p.body.id}/`).set('Authorization', `Bearer ${heir.access}`)).body.role).toBe('owner');
  });

  it('a personal project cannot be deleted; another one can, with its data', async () => {
    const u = await createUser(stack.web.ds);
    const auth = `Bearer ${u.access}`;
    expect((await stack.http.delete(`/api/projects/${u.personal.id}/`).set('Authorization', auth)).status).toBe(409);
    const p = await stack.http.post('/api/projects/').set('Authorization', auth).send({ name: 'Temporary' });
    await stack.http.delete(`/api/projects/${p.body.id}/`).set('Authorization', auth).expect(204);
    expect((await stack.http.get(`/api/projects/${p.body.id}/`).set('Authorization', auth)).status).toBe(404);
    expect((await stack.http.post('/api/events/').set('Authorization', `Bearer ${p.body.api_key}`).send(pantiesEvent())).status).toBe(401);
  });
});

describe('users (seed 4, staff only)', () => {
  it('creates, reads, replaces, patches the password and deletes, never showing a password', async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const auth = `Bearer ${staff.access}`;
    const email = uniqueEmail();
    const created = await stack.http
      .post('/api/users/')
      .set('Authorization', auth)
      .send({ email, password: 'Pass123!xyz', is_active: true, is_staff: false });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, is_active: true, is_staff: false });
    expect(JSON.stringify(created.body)).not.toMatch(/password|Pass123/);
    const id = created.body.id;
    const updatedEmail = uniqueEmail();
    const put = await stack.http
      .put(`/api/users/${id}/`)
      .set('Authorization', auth)
      .send({ email: updatedEmail, password: 'NewPass456!', is_active: true, is_staff: true });
    expect(put.body).toMatchObject({ email: updatedEmail, is_staff: true });
    await stack.http.patch(`/api/users/${id}/`).set('Authorization', auth).send({ password: 'AnotherPass789!' }).expect(200);
    expect((await login(updatedEmail, 'AnotherPass789!')).status).toBe(200);
    expect((await stack.http.get('/api/users/?search=' + updatedEmail.slice(0, 12)).set('Authorization', auth)).body.count).toBe(1);
    await stack.http.delete(`/api/users/${id}/`).set('Authorization', auth).expect(204);
    expect((await stack.http.get(`/api/users/${id}/`).set('Authorization', auth)).status).toBe(404);
    expect((await login(updatedEmail, 'AnotherPass789!')).status).toBe(401);
  });

  it('staff cannot lock themselves out', async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const auth = `Bearer ${staff.access}`;
    expect((await stack.http.delete(`/api/users/${staff.user.id}/`).set('Authorization', auth)).status).toBe(409);
    expect((await stack.http.patch(`/api/users/${staff.user.id}/`).set('Authorization', auth).send({ is_staff: false })).status).toBe(409);
  });
});

describe('profile and stats (seed 3)', () => {
  it('profile shows and edits the user; a taken email is 409', async () => {
    const u = await createUser(stack.web.ds);
    const other = await createUser(stack.web.ds);
    const auth = `Bearer ${u.access}`;
    const got = await stack.http.get('/api/user/profile/').set('Authorization', auth);
    expect(got.body).toMatchObject({
      id: u.user.id,
      email: u.user.email,
      is_staff: false,
      is_active: true,
      date_joined: expect.any(String),
    });
    const patched = await stack.http
      .patch('/api/user/profile/')
      .set('Authorization', auth)
      .send({ first_name: 'Ada', last_name: 'Lovelace' });
    expect(patched.body).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace' });
    // a new email needs the current password (test/hardening-accounts.test.ts); a taken one is then 409
    expect(
      (
        await stack.http
          .patch('/api/user/profile/')
          .set('Authorization', auth)
          .send({ email: other.user.email, current_password: PASSWORD })
      ).status,
    ).toBe(409);
    expectError(await stack.http.patch('/api/user/profile/').set('Authorization', auth).send({ is_staff: true }), 400, 'validation_error');
    // seed 3's UpdateAPIView takes PUT as well, with or without the trailing slash
    const put = await stack.http.put('/api/user/profile').set('Authorization', auth).send({ first_name: 'Grace', last_name: 'Hopper' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: u.user.id, first_name: 'Grace', last_name: 'Hopper' });
  });

  it('stats count the last 30 days of events by level and by day', async () => {
    const u = await createUser(stack.web.ds);
    const now = Date.now() / 1000;
    await stack.web.ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin)
       VALUES ($1, 'a', 'error', to_timestamp($2), 'error', 'x', 'test'), ($1, 'b', 'error', to_timestamp($2), 'critical', 'x', 'test'),
              ($1, 'c', 'log', to_timestamp($2), 'info', 'x', 'test'), ($1, 'old', 'error', to_timestamp($3), 'error', 'x', 'test')`,
      [u.personal.id, now, now - 40 * 86400],
    );
    const stats = await stack.http.get('/api/user/stats/').set('Authorization', `Bearer ${u.access}`);
    expect(stats.body.events.total).toBe(2);
    expect(stats.body.events.by_level).toMatchObject({ error: 1, critical: 1, info: 0 });
    expect(stats.body.events.by_day).toEqual([{ date: new Date(now * 1000).toISOString().slice(0, 10), count: 2 }]);
    expect(stats.body.logs).toMatchObject({
      total: 1,
      by_level: expect.objectContaining({ info: 1 }),
      by_severity: expect.objectContaining({ INFO: 1 }),
    });
    expect(stats.body.llm).toMatchObject({ calls: 0, by_model: [] });
  });

  it("stats also answer seed 3's own keys: all-time totals, logs by level, active keys", async () => {
    const u = await createUser(stack.web.ds);
    const auth = `Bearer ${u.access}`;
    const long = Date.now() / 1000 - 400 * 86400; // all-time: a year-old log counts too
    await stack.web.ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin)
       VALUES ($1, 'l1', 'log', to_timestamp($2), 'warning', 'x', 'test'), ($1, 'l2', 'log', now(), 'warning', 'x', 'test'),
              ($1, 'l3', 'log', now(), 'debug', 'x', 'test'), ($1, 'e1', 'error', now(), 'error', 'x', 'test')`,
      [u.personal.id, long],
    );
    await stack.web.ds.query(
      `INSERT INTO llm_logs (project_id, event_id, user_ref, source, query, response, "timestamp", received_at)
       VALUES ($1, 'q1', 'u', 'chat', 'q', 'r', now(), now())`,
      [u.personal.id],
    );
    const extra = await stack.http.post('/api/apikeys/').set('Authorization', auth).send({ name: 'second' }).expect(201);
    const before = (await stack.http.get('/api/user/stats/').set('Authorization', auth)).body;
    expect(before).toMatchObject({
      total_event_logs: 3,
      total_llm_logs: 1,
      logs_by_level: { debug: 1, info: 0, warning: 2, error: 0 },
      api_keys_count: 2, // the personal project's key and the new one
    });
    await stack.http.delete(`/api/apikeys/${extra.body.id}/`).set('Authorization', auth).expect(204);
    expect((await stack.http.get('/api/user/stats/').set('Authorization', auth)).body.api_keys_count).toBe(1);
  });
});

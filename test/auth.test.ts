import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { startWeb } from './helpers/stack.ts';
import { PASSWORD, uniqueEmail } from './helpers/factories.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

async function registerAndLogin(email = uniqueEmail()) {
  const reg = await stack.http.post('/api/auth/register/').send({ email, password: PASSWORD, first_name: 'John', last_name: 'Doe' });
  const login = await stack.http.post('/api/auth/login/').send({ email, password: PASSWORD });
  return { reg, login, email };
}

describe('accounts (minimum for the pipeline)', () => {
  it('register → 201 with the user and a personal project whose key ingests', async () => {
    const { reg, email } = await registerAndLogin();
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ id: expect.any(Number), email, first_name: 'John', last_name: 'Doe' });
    expect(reg.body.project.api_key).toMatch(/^flk_[0-9A-Za-z]{32}$/);
    const [{ key_hash, prefix }] = await stack.web.ds.query('SELECT key_hash, prefix FROM api_keys WHERE project_id = $1', [
      reg.body.project.id,
    ]);
    expect(key_hash).not.toContain(reg.body.project.api_key); // only the hash is stored
    expect(reg.body.project.api_key.startsWith(prefix)).toBe(true);
  });

  it('login → {access, refresh, user} as seed 2 shows it; /api/auth/user/ answers the same user', async () => {
    const { login, email } = await registerAndLogin();
    expect(login.status).toBe(200);
    expect(login.body).toEqual({
      access: expect.any(String),
      refresh: expect.any(String),
      token: login.body.access,
      user: { id: expect.any(Number), email, first_name: 'John', last_name: 'Doe' },
    });
    const me = await stack.http.get('/api/auth/user').set('Authorization', `Bearer ${login.body.access}`);
    expect(me.status).toBe(200);
    expect(me.body).toEqual(login.body.user);
  });

  it('email is case-insensitive and unique', async () => {
    const email = uniqueEmail();
    await stack.http.post('/api/auth/register/').send({ email, password: PASSWORD }).expect(201);
    const dup = await stack.http.post('/api/auth/register/').send({ email: email.toUpperCase(), password: PASSWORD });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('email_taken');
    const login = await stack.http.post('/auth/login/').send({ email: email.toUpperCase(), password: PASSWORD }); // seed 5 path
    expect(login.status).toBe(200);
  });

  it('takes `username` for the email and answers `token` too, as django-rest-framework-jwt clients expect (seed 5)', async () => {
    const { email } = await registerAndLogin();
    const login = await stack.http.post('/auth/login/').send({ username: email, password: PASSWORD }).expect(200);
    expect(login.body.token).toBe(login.body.access);
    const me = await stack.http.get('/api/auth/user/').set('Authorization', `JWT ${login.body.token}`).expect(200);
    expect(me.body.email).toBe(email);
    const neither = await stack.http.post('/auth/login/').send({ password: PASSWORD });
    expectError(neither, 400, 'validation_error');
    expect(neither.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'email' })]));
  });

  it('a wrong password and an unknown email fail the same way', async () => {
    const { email } = await registerAndLogin();
    const wrong = await stack.http.post('/api/auth/login/').send({ email, password: 'not the password' });
    const unknown = await stack.http.post('/api/auth/login/').send({ email: uniqueEmail(), password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it('refresh gives a working access token; an access token is not a refresh token', async () => {
    const { login } = await registerAndLogin();
    const refreshed = await stack.http.post('/api/auth/refresh/').send({ refresh: login.body.refresh });
    expect(refreshed.status).toBe(200);
    await stack.http.get('/api/auth/user/').set('Authorization', `Bearer ${refreshed.body.access}`).expect(200);
    expect((await stack.http.post('/api/auth/refresh/').send({ refresh: login.body.access })).status).toBe(401);
    expect((await stack.http.get('/api/auth/user/').set('Authorization', `Bearer ${login.body.refresh}`)).status).toBe(401);
  });

  it('alg:none, a foreign signature and an expired token are 401', async () => {
    const { login } = await registerAndLogin();
    const [, payload] = login.body.access.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const foreign = await new SignJWT(JSON.parse(Buffer.from(payload, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('some-other-secret-some-other-secret!!'));
    const expired = await new SignJWT({ typ: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(login.body.user.id))
      .setIssuer('faultline')
      .setJti('x')
      .setIssuedAt(1_000_000)
      .setExpirationTime(1_000_060)
      .sign(new TextEncoder().encode(process.env.JWT_SECRET!));
    for (const [token, code] of [
      [none, 'token_invalid'],
      [foreign, 'token_invalid'],
      [expired, 'token_expired'],
    ]) {
      const res = await stack.http.get('/api/auth/user/').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(code);
    }
  });

  it('a deactivated user is refused at login and with a token issued before', async () => {
    const { login, email } = await registerAndLogin();
    await stack.web.ds.query('UPDATE users SET is_active = false WHERE id = $1', [login.body.user.id]);
    expect((await stack.http.get('/api/auth/user/').set('Authorization', `Bearer ${login.body.access}`)).status).toBe(401);
    expect((await stack.http.post('/api/auth/login/').send({ email, password: PASSWORD })).status).toBe(401);
  });

  it.each([[{ email: 'not-an-email', password: PASSWORD }], [{ email: uniqueEmail(), password: 'short' }], [{ password: PASSWORD }]])(
    'registration refuses %j with 400',
    async (body) => {
      const res = await stack.http.post('/api/auth/register/').send(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_error');
      expect(Array.isArray(res.body.details)).toBe(true);
    },
  );
});

describe('projects (minimum for the pipeline)', () => {
  it('POST /api/projects/ creates a project and returns its first key once; the key ingests into it', async () => {
    const { login } = await registerAndLogin();
    const auth = `Bearer ${login.body.access}`;
    const created = await stack.http.post('/api/projects/').set('Authorization', auth).send({ name: 'Checkout Service' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Checkout Service', slug: 'checkout-service', owner: login.body.user.id, role: 'owner' });
    expect(created.body.api_key).toMatch(/^flk_\w{32}$/);
    expect(Number.isInteger(created.body.id)).toBe(true);

    const again = await stack.http.get(`/api/projects/${created.body.id}/`).set('Authorization', auth);
    expect(again.status).toBe(200);
    expect(again.body).not.toHaveProperty('api_key');

    const listed = await stack.http.get('/api/projects/').set('Authorization', auth);
    expect(listed.body.results.map((p: { id: number }) => p.id)).toContain(created.body.id);

    const sent = await stack.http.post('/api/events/').set('Authorization', `Bearer ${created.body.api_key}`).send({ message: 'hello' });
    expect(sent.status).toBe(202);
  });

  it('slugs stay unique', async () => {
    const { login } = await registerAndLogin();
    const auth = `Bearer ${login.body.access}`;
    const a = await stack.http.post('/api/projects/').set('Authorization', auth).send({ name: 'Same Name' });
    const b = await stack.http.post('/api/projects/').set('Authorization', auth).send({ name: 'Same Name' });
    expect(a.body.slug).not.toEqual(b.body.slug);
  });
});

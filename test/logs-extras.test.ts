/**
 * Saved filters (seed 2), seed 3's event-log filters, demo data, and the OpenAPI
 * document listing every logs endpoint.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateDemoData } from '../src/domain/logs/demo.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { storeLogs } from './helpers/logs.ts';
import { startWeb } from './helpers/stack.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  stack = await startWeb();
  [alice, bob] = await Promise.all([createUser(stack.web.ds), createUser(stack.web.ds)]);
});
afterAll(async () => {
  await stack.web.close();
});

const as = (u: TestUser) => ({
  get: (p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`),
  post: (p: string, b: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b),
  put: (p: string, b: object) => stack.http.put(p).set('Authorization', `Bearer ${u.access}`).send(b),
  patch: (p: string, b: object) => stack.http.patch(p).set('Authorization', `Bearer ${u.access}`).send(b),
  delete: (p: string) => stack.http.delete(p).set('Authorization', `Bearer ${u.access}`),
});

describe('/api/user-filter-preferences/ (seed 2)', () => {
  const base = '/api/user-filter-preferences/';

  it('creates, lists, reads, replaces, patches and deletes your own saved filters', async () => {
    const a = as(alice);
    const created = await a.post(base, { name: 'Gateway errors', filters: { severity: 'ERROR', source: 'api_gateway' }, is_default: true });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(Number),
      user: alice.user.id,
      name: 'Gateway errors',
      filters: { severity: 'ERROR', source: 'api_gateway' },
      is_default: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = created.body.id;
    expect((await a.get(base)).body).toMatchObject({ count: 1, next: null, previous: null, results: [{ id }] });
    expect((await a.get(`${base}${id}/`)).body.name).toBe('Gateway errors');
    const put = await a.put(`${base}${id}/`, { name: 'All errors', filters: { severity: 'ERROR,CRITICAL' } });
    expect(put.body).toMatchObject({ name: 'All errors', filters: { severity: 'ERROR,CRITICAL' }, is_default: false });
    expect((await a.patch(`${base}${id}/`, { is_default: true })).body).toMatchObject({ name: 'All errors', is_default: true });
    expect((await a.delete(`${base}${id}/`)).status).toBe(204);
    expect((await a.get(`${base}${id}/`)).status).toBe(404);
  });

  it('keeps one default per user, and refuses a duplicate name with 409', async () => {
    const u = await createUser(stack.web.ds);
    const a = as(u);
    const first = (await a.post(base, { name: 'one', filters: {}, is_default: true })).body;
    const second = (await a.post(base, { name: 'two', filters: {}, is_default: true })).body;
    expect((await a.get(`${base}${first.id}/`)).body.is_default).toBe(false);
    expect((await a.get(base)).body.results.map((p: { id: number }) => p.id)).toEqual([second.id, first.id]); // default first
    const dup = await a.post(base, { name: 'one', filters: {} });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('name_taken');
    expectError(await a.post(base, { name: '', filters: {} }), 400, 'validation_error');
    expectError(await a.post(base, { name: 'x', filters: 'severity=ERROR' }), 400, 'validation_error');
  });

  it("another user's saved filter is 404 for every method, and never listed", async () => {
    const mine = (await as(alice).post(base, { name: 'private', filters: { env: 'production' } })).body;
    const b = as(bob);
    expect((await b.get(`${base}${mine.id}/`)).status).toBe(404);
    expect((await b.put(`${base}${mine.id}/`, { name: 'stolen', filters: {} })).status).toBe(404);
    expect((await b.patch(`${base}${mine.id}/`, { name: 'stolen' })).status).toBe(404);
    expect((await b.delete(`${base}${mine.id}/`)).status).toBe(404);
    expect((await b.get(base)).body.count).toBe(0);
    expect((await stack.http.get(base)).status).toBe(401);
  });
});

describe('GET /api/event-logs/ (seed 3) filters', () => {
  it('filters by level, user_id, search and date, in seed 3 shape', async () => {
    const u = await createUser(stack.web.ds);
    await storeLogs(stack.web.ds, u.personal.id, [
      { event_id: 'a', message: 'Button clicked', severity: 'info', timestamp: '2025-02-01T10:00:00Z' },
      { event_id: 'b', message: 'Payment failed', severity: 'error', timestamp: '2025-02-02T10:00:00Z' },
    ]);
    await stack.web.ds.query(`UPDATE events SET user_ref = 'user123' WHERE project_id = $1 AND event_id = 'b'`, [u.personal.id]);
    const get = (q: string) => as(u).get(`/api/event-logs/?${q}`);
    expect((await get('level=error')).body.results.map((r: { message: string }) => r.message)).toEqual(['Payment failed']);
    expect((await get('user_id=user123')).body.count).toBe(1);
    expect((await get('search=button')).body.results[0]).toMatchObject({
      message: 'Button clicked',
      level: 'info',
      user_id: null,
      metadata: {},
    });
    expect((await get('date_from=2025-02-02')).body.count).toBe(1);
    expectError(await get('level=nope'), 400, 'invalid_request');
  });
});

describe('demo data', () => {
  it("writes seed 2's users, a shared project and logs with its severity mix; --clear starts over", async () => {
    const result = await generateDemoData(stack.web.ds, { logs: 2000, users: 3, clear: true, password: 'demo-password-1', seed: 7 });
    expect(result.users.map((u) => [u.email, u.role])).toEqual([
      ['admin@logsdashboard.com', 'owner'],
      ['dev@logsdashboard.com', 'member'],
      ['analyst@logsdashboard.com', 'viewer'],
    ]);
    const mix: Array<{ level: string; n: number }> = await stack.web.ds.query(
      `SELECT level, count(*)::int AS n FROM events WHERE project_id = $1 AND kind = 'log' GROUP BY level`,
      [result.projectId],
    );
    const share = Object.fromEntries(mix.map((r) => [r.level, r.n / 2000]));
    expect(share.info).toBeCloseTo(0.4, 1);
    expect(share.warning).toBeCloseTo(0.25, 1);
    expect(share.critical).toBeLessThan(0.06);
    const [{ sources, recent }] = await stack.web.ds.query(
      `SELECT count(DISTINCT service)::int AS sources, avg(("timestamp" > now() - interval '7 days')::int)::float AS recent FROM events WHERE project_id = $1 AND kind = 'log'`,
      [result.projectId],
    );
    expect(sources).toBe(20);
    expect(recent).toBeGreaterThan(0.6);
    expect(result.errors).toBeGreaterThan(0);
    expect(result.llmLogs).toBeGreaterThan(0);

    // The analyst (a viewer) reads them through the API.
    const login = await stack.http.post('/api/auth/login/').send({ email: 'analyst@logsdashboard.com', password: 'demo-password-1' });
    const list = await stack.http.get('/api/logs/?page_size=1').set('Authorization', `Bearer ${login.body.access}`);
    expect(list.body.count).toBe(2000);

    const again = await generateDemoData(stack.web.ds, { logs: 10, users: 1, clear: true, password: 'demo-password-1' });
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND kind = 'log'`, [
      again.projectId,
    ]);
    expect(n).toBe(10);
  });

  it('refuses to run with NODE_ENV=production', () => {
    // The source entry, as `npm run demo-data` runs it in development; production would run dist/.
    const run = spawnSync(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', fileURLToPath(new URL('../src/cli/demoData.ts', import.meta.url)), '--logs', '1'],
      {
        env: { ...process.env, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), SESSION_SECRET: 'y'.repeat(40) },
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('disabled in production');
  });
});

describe('OpenAPI', () => {
  it('documents every logs endpoint', async () => {
    const doc = (await stack.http.get('/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const expected: Array<[string, string[]]> = [
      ['/api/event-log/', ['post']],
      ['/api/llm-log/', ['post']],
      ['/api/logs/', ['get', 'post']],
      ['/v1/api/logs/', ['get', 'post']],
      ['/api/logs/{id}/', ['get', 'put', 'patch', 'delete']],
      ['/v1/api/logs/{id}/', ['get', 'put', 'patch', 'delete']],
      ['/api/logs/export/', ['get']],
      ['/api/event-logs/', ['get']],
      ['/api/event-logs/{id}/', ['get']],
      ['/api/llm-logs/', ['get']],
      ['/api/llm-logs/{id}/', ['get']],
      ['/api/user-filter-preferences/', ['get', 'post']],
      ['/api/user-filter-preferences/{id}/', ['get', 'put', 'patch', 'delete']],
      ['/ws/logs/', ['get']],
    ];
    for (const [path, methods] of expected) expect(Object.keys(doc.paths[path] ?? {}).sort()).toEqual(expect.arrayContaining(methods));
  });
});

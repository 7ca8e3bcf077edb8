/**
 * The admin's rules at the HTTP level (AdminJS's own API under /admin/api), no browser:
 * sign-in, rate limits, CSRF, sessions ending, and tenancy / roles on every kind of call.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Web } from '../src/api/index.ts';
import { updateUser } from '../src/domain/accounts/users.ts';
import { createProjectWithKey, createUser, PASSWORD, type TestUser } from './helpers/factories.ts';
import { addMember } from './helpers/logs.ts';
import { startWeb } from './helpers/stack.ts';
import { adminAgent, adminLogin, api, type Agent } from './helpers/adminHttp.ts';
import { seedProject } from './helpers/adminData.ts';

let web: Web;
let staff: TestUser;
let viewer: TestUser;
let member: TestUser;
let mine: number;
let theirs: number;
const idIn = async (projectId: number, kind = 'error') =>
  String((await web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND kind = $2 ORDER BY id LIMIT 1`, [projectId, kind]))[0].id);
const refused = (body: { notice?: { type: string }; record?: { params: object } }) =>
  body.notice?.type === 'error' && JSON.stringify(body.record?.params ?? {}) === '{}';

beforeAll(async () => {
  ({ web } = await startWeb());
  staff = await createUser(web.ds, { isStaff: true });
  viewer = await createUser(web.ds);
  member = await createUser(web.ds);
  const owner = await createUser(web.ds);
  mine = (await createProjectWithKey(web.ds, owner.user, 'Shared')).project.id;
  theirs = (await createProjectWithKey(web.ds, owner.user, 'Private')).project.id;
  await addMember(web.ds, mine, viewer.user.id, 'viewer');
  await addMember(web.ds, mine, member.user.id, 'member');
  await seedProject(web.ds, mine, 'mine');
  await seedProject(web.ds, theirs, 'theirs');
});

afterAll(async () => {
  await web.close();
});

describe('admin sign-in', () => {
  it('refuses a wrong password and a cross-site login post', async () => {
    const { agent, base } = await adminAgent(web);
    const wrong = await agent.post('/admin/login').set('Origin', base).type('form').send({ email: staff.user.email, password: 'nope' });
    expect(wrong.status).toBe(200); // the login page again, with the error
    expect(wrong.text).toContain('"errorMessage":"invalidCredentials"');
    const csrf = await agent
      .post('/admin/login')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ email: staff.user.email, password: PASSWORD });
    expect(csrf.status).toBe(403);
    expect((await agent.get('/admin/api/resources/Project/actions/list')).status).toBe(302); // still signed out
  });

  it('sets an HttpOnly, SameSite cookie scoped to /admin and a fresh session id at login', async () => {
    const { agent, base } = await adminAgent(web);
    const res = await agent.post('/admin/login').set('Origin', base).type('form').send({ email: viewer.user.email, password: PASSWORD });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/faultline_admin=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/admin/);
  });

  it('lets browsers cache its script bundles (revalidated by ETag) but never a page', async () => {
    const { agent } = await adminAgent(web);
    const bundle = await agent.get('/admin/frontend/assets/app.bundle.js').expect(200);
    expect(bundle.headers['cache-control']).not.toMatch(/no-store/);
    expect(bundle.headers.etag).toBeTruthy();
    await agent.get('/admin/frontend/assets/app.bundle.js').set('If-None-Match', bundle.headers.etag).expect(304);
    expect((await agent.get('/admin/login')).headers['cache-control']).toBe('no-store');
  });

  it('uses the same per-account rate limit as the API', async () => {
    const victim = await createUser(web.ds);
    const { agent, base } = await adminAgent(web);
    for (let i = 0; i < 10; i++)
      await agent.post('/admin/login').set('Origin', base).type('form').send({ email: victim.user.email, password: 'wrong' });
    const res = await agent.post('/admin/login').set('Origin', base).type('form').send({ email: victim.user.email, password: PASSWORD });
    expect(res.text).toContain('Too many attempts');
  });

  it('a deactivated user is out at the next request; logout ends the session', async () => {
    const user = await createUser(web.ds);
    const { agent } = await adminLogin(web, user.user.email);
    expect((await api(agent, '/resources/Project/actions/list')).status).toBe(200);
    await updateUser(web.ds, user.user.id, { isActive: false });
    const after = await api(agent, '/resources/Project/actions/list');
    expect(after.status).toBe(302);
    expect(after.headers.location).toBe('/admin/login');

    const other = await adminLogin(web, member.user.email);
    await other.agent.get('/admin/logout');
    expect((await api(other.agent, '/resources/Project/actions/list')).status).toBe(302);
  });
});

describe('admin tenancy and roles', () => {
  let viewerAgent: Agent;
  let memberAgent: Agent;
  let staffAgent: Agent;
  let base: string;
  beforeAll(async () => {
    ({ agent: viewerAgent, base } = await adminLogin(web, viewer.user.email));
    ({ agent: memberAgent } = await adminLogin(web, member.user.email));
    ({ agent: staffAgent } = await adminLogin(web, staff.user.email));
  });

  it("lists only the projects' data one belongs to; staff see everything", async () => {
    const lists = await Promise.all(
      ['Event', 'Log', 'Issue', 'LlmLog', 'Project'].map((r) => api(viewerAgent, `/resources/${r}/actions/list?perPage=100`)),
    );
    for (const res of lists) {
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain('theirs');
      expect(JSON.stringify(res.body)).not.toContain('Private');
    }
    // Filtered to that project: other test files write newer events into the same database.
    const everything = await api(staffAgent, `/resources/Event/actions/list?perPage=100&filters.kind=error&filters.projectId=${theirs}`);
    expect(JSON.stringify(everything.body)).toContain('theirs');
  });

  it("a crafted URL to another project's record, or a filter on it, finds nothing", async () => {
    const foreign = await idIn(theirs);
    for (const action of ['show', 'edit', 'delete', 'archive']) {
      const res = await api(viewerAgent, `/resources/Event/records/${foreign}/${action}`);
      expect(refused(res.body)).toBe(true);
      expect(JSON.stringify(res.body)).not.toContain('theirs');
    }
    const filtered = await api(viewerAgent, `/resources/Event/actions/list?filters.projectId=${theirs}`);
    expect(filtered.body.records).toEqual([]);
    const bulk = await viewerAgent.post(`/admin/api/resources/Event/bulk/bulkDelete?recordIds=${foreign}`).set('Origin', base);
    expect(JSON.stringify(bulk.body)).not.toContain('theirs');
    expect(Number((await web.ds.query(`SELECT count(*) FROM events WHERE id = $1`, [foreign]))[0].count)).toBe(1);
  });

  it('viewers read but cannot change data; members can', async () => {
    const own = await idIn(mine);
    const show = await api(viewerAgent, `/resources/Event/records/${own}/show`);
    expect(show.body.record.params.message).toContain('mine');
    const actions = show.body.record.recordActions.map((a: { name: string }) => a.name);
    expect(actions).not.toEqual(expect.arrayContaining(['edit']));
    expect(actions).not.toContain('delete');

    const denied = await viewerAgent.post(`/admin/api/resources/Event/records/${own}/archive`).set('Origin', base).send({});
    expect(refused(denied.body)).toBe(true);
    expect((await web.ds.query(`SELECT archived FROM events WHERE id = $1`, [own]))[0].archived).toBe(false);

    const allowed = await memberAgent.post(`/admin/api/resources/Event/records/${own}/archive`).set('Origin', base).send({});
    expect(allowed.body.notice.type).toBe('success');
    expect((await web.ds.query(`SELECT archived FROM events WHERE id = $1`, [own]))[0].archived).toBe(true);
  });

  it('a GET never changes data, and a POST from another site is refused', async () => {
    const own = await idIn(mine, 'log');
    await api(memberAgent, `/resources/Log/records/${own}/archive`);
    expect((await web.ds.query(`SELECT archived FROM events WHERE id = $1`, [own]))[0].archived).toBe(false);
    const cross = await memberAgent.post(`/admin/api/resources/Log/records/${own}/archive`).set('Origin', 'https://evil.example').send({});
    expect(cross.status).toBe(403);
    const fetchMeta = await memberAgent.get(`/admin/api/resources/Log/records/${own}/show`).set('Sec-Fetch-Site', 'cross-site');
    expect(fetchMeta.status).toBe(403);
  });

  it('users and API keys are out of reach for those without the role', async () => {
    expect(refused((await api(viewerAgent, `/resources/User/records/${staff.user.id}/show`)).body)).toBe(true);
    const users = await api(viewerAgent, '/resources/User/actions/list');
    expect(users.body.records ?? []).toEqual([]);
    // A member (not admin) of "Shared" sees no key of it; only those of their own personal project.
    const keys = await api(memberAgent, '/resources/ApiKey/actions/list');
    expect(keys.body.records.map((r: { params: { projectId: number } }) => r.params.projectId)).toEqual([member.personal.id]);
    const create = await memberAgent
      .post('/admin/api/resources/ApiKey/actions/new')
      .set('Origin', base)
      .field('projectId', String(mine))
      .field('name', 'sneaky');
    expect(create.body.notice?.type).toBe('error');
    expect(Number((await web.ds.query(`SELECT count(*) FROM api_keys WHERE name = 'sneaky'`))[0].count)).toBe(0);
  });

  it('counts are capped, and a list never carries stack traces', async () => {
    const res = await api(staffAgent, '/resources/Event/actions/list?filters.kind=error');
    expect(res.body.meta.total).toBeGreaterThan(0);
    expect(JSON.stringify(res.body)).not.toContain('Traceback');
  });
});

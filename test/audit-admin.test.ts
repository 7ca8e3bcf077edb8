/**
 * The audit log from the admin: sign-ins, edits, custom and bulk actions recorded by the
 * central hook (src/admin/audit.ts) with before/after and no secret; the read-only "Audit
 * log" resource, scoped like the API (staff: all; project admins: their projects).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Web } from '../src/api/index.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { addMember } from './helpers/logs.ts';
import { startWeb } from './helpers/stack.ts';
import { adminAgent, adminLogin, api, type Agent } from './helpers/adminHttp.ts';
import { seedProject } from './helpers/adminData.ts';

let web: Web;
let staff: TestUser;
let owner: TestUser;
let projectAdmin: TestUser;
let viewer: TestUser;
let mine: number;
let theirs: number;

type Entry = {
  action: string;
  actor_id: number | null;
  target_id: string | null;
  project_id: number | null;
  changes: Record<string, [unknown, unknown]>;
  ip: string | null;
  user_agent: string | null;
};
const entries = (action: string): Promise<Entry[]> => web.ds.query(`SELECT * FROM audit_log WHERE action = $1 ORDER BY id`, [action]);
const idsIn = async (projectId: number, kind: string, n: number): Promise<string[]> =>
  (await web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND kind = $2 ORDER BY id LIMIT $3`, [projectId, kind, n])).map(
    (r: { id: string }) => String(r.id),
  );

beforeAll(async () => {
  ({ web } = await startWeb());
  staff = await createUser(web.ds, { isStaff: true });
  owner = await createUser(web.ds);
  projectAdmin = await createUser(web.ds);
  viewer = await createUser(web.ds);
  mine = (await createProjectWithKey(web.ds, owner.user, 'Mine')).project.id;
  theirs = (await createProjectWithKey(web.ds, staff.user, 'Theirs')).project.id;
  await addMember(web.ds, mine, projectAdmin.user.id, 'admin');
  await addMember(web.ds, mine, viewer.user.id, 'viewer');
  await seedProject(web.ds, mine, 'mine');
  await seedProject(web.ds, theirs, 'theirs');
});

afterAll(async () => {
  await web.close();
});

describe('recorded from the admin', () => {
  it('sign-in and a failed sign-in at the AdminJS login', async () => {
    const { agent, base } = await adminAgent(web);
    await agent
      .post('/admin/login')
      .set('Origin', base)
      .set('User-Agent', 'admin-ua')
      .type('form')
      .send({ email: owner.user.email, password: 'not it at all' });
    const failed = (await entries('auth.login_failed')).at(-1)!;
    expect(failed).toMatchObject({ actor_id: owner.user.id, target_id: 'admin', user_agent: 'admin-ua' });
    await adminLogin(web, owner.user.email);
    expect((await entries('auth.login')).at(-1)).toMatchObject({ actor_id: owner.user.id, target_id: 'admin' });
    expect(JSON.stringify(await web.ds.query(`SELECT * FROM audit_log`))).not.toContain('not it at all');
  });

  it('an edit, with before and after, and the client IP', async () => {
    const { agent, base } = await adminLogin(web, owner.user.email);
    const res = await agent
      .post(`/admin/api/resources/Project/records/${mine}/edit`)
      .set('Origin', base)
      .send({ description: 'edited in the admin' });
    expect(res.status).toBe(200);
    const e = (await entries('admin.Project.edit')).at(-1)!;
    expect(e).toMatchObject({ actor_id: owner.user.id, target_id: String(mine), project_id: mine });
    expect(e.changes.description?.[1]).toBe('edited in the admin');
    expect(e.ip).toBeTruthy();
  });

  it('a custom record action and a bulk delete: one entry per record', async () => {
    const { agent, base } = await adminLogin(web, owner.user.email);
    const [one] = await idsIn(mine, 'error', 1);
    await agent.post(`/admin/api/resources/Event/records/${one}/archive`).set('Origin', base).send({}).expect(200);
    const archived = (await entries('admin.Event.archive')).at(-1)!;
    expect(archived).toMatchObject({ target_id: one, project_id: mine, changes: { archived: [false, true] } });

    const logs = await idsIn(mine, 'log', 2);
    await agent
      .post(`/admin/api/resources/Log/bulk/bulkDelete?recordIds=${logs.join(',')}`)
      .set('Origin', base)
      .send({})
      .expect(200);
    const deleted = await entries('admin.Log.bulkDelete');
    expect(deleted.map((d) => d.target_id).sort()).toEqual([...logs].sort());
    expect(deleted.every((d) => d.project_id === mine && d.changes.message?.[1] === null)).toBe(true);
    expect((await web.ds.query(`SELECT count(*)::int AS n FROM events WHERE id = ANY($1::bigint[])`, [logs]))[0].n).toBe(0);

    const [llm] = (await web.ds.query(`SELECT id FROM llm_logs WHERE project_id = $1 ORDER BY id LIMIT 1`, [mine])).map(
      (r: { id: string }) => String(r.id),
    );
    await agent.post(`/admin/api/resources/LlmLog/bulk/bulkDelete?recordIds=${llm}`).set('Origin', base).send({}).expect(200);
    expect((await entries('admin.LlmLog.bulkDelete')).at(-1)).toMatchObject({ target_id: llm, project_id: mine });

    const issues: string[] = (
      await web.ds.query(`SELECT id FROM issues WHERE project_id = $1 AND status = 'unresolved' ORDER BY id LIMIT 2`, [mine])
    ).map((r: { id: string }) => String(r.id));
    expect(issues).toHaveLength(2);
    await agent
      .post(`/admin/api/resources/Issue/bulk/resolve?recordIds=${issues.join(',')}`)
      .set('Origin', base)
      .send({})
      .expect(200);
    const resolved = await entries('admin.Issue.resolve');
    expect(resolved.map((d) => d.target_id).sort()).toEqual([...issues].sort());
    expect(resolved.every((d) => d.changes.status?.[0] === 'unresolved' && d.changes.status?.[1] === 'resolved')).toBe(true);
  });

  it('a new API key: recorded, its secret not', async () => {
    const { agent, base } = await adminLogin(web, owner.user.email);
    await agent
      .post('/admin/api/resources/ApiKey/actions/new')
      .set('Origin', base)
      .field('projectId', String(mine))
      .field('name', 'from-admin')
      .expect(200);
    const [key] = await web.ds.query(`SELECT id, key_hash FROM api_keys WHERE name = 'from-admin'`);
    const e = (await entries('admin.ApiKey.new')).at(-1)!;
    expect(e).toMatchObject({ project_id: mine, target_id: String(key.id) });
    const shown = await api(agent, `/resources/ApiKey/records/${key.id}/show`);
    const secret = shown.body.record.params.secret as string;
    expect(secret).toMatch(/\w{20,}/); // shown once, on the page after creation
    const all = JSON.stringify(await web.ds.query(`SELECT * FROM audit_log`));
    expect(all).not.toContain(key.key_hash);
    expect(all).not.toContain(secret);
  });
});

describe('the central hook', () => {
  it('wraps every write action of every resource, built-in and custom', async () => {
    const { adminOptions } = await import('../src/admin/options.ts');
    const resources = adminOptions({ ds: web.ds, redis: web.redis, queues: web.queues, access: web.access }).resources as Array<{
      resource: { id(): string };
      options: { actions: Record<string, { after?: unknown[]; before?: unknown[] }> };
    }>;
    const unhooked: string[] = [];
    for (const r of resources) {
      const names = new Set(['new', 'edit', 'delete', 'bulkDelete', ...Object.keys(r.options.actions)]);
      for (const name of names) {
        if (['list', 'show', 'search'].includes(name)) continue;
        const a = r.options.actions[name];
        if (!Array.isArray(a?.after) || !Array.isArray(a?.before) || a.after.length === 0) unhooked.push(`${r.resource.id()}.${name}`);
      }
    }
    expect(unhooked).toEqual([]);
    expect(resources.map((r) => r.resource.id())).toContain('AuditLog');
  });
});

describe('the Audit log page', () => {
  const list = async (agent: Agent) =>
    (await api(agent, '/resources/AuditLog/actions/list?perPage=500')).body as {
      records?: Array<{ params: { projectId: number | null; action: string } }>;
      notice?: { type: string };
    };

  it('staff see every entry; a project admin only their projects; a viewer nothing', async () => {
    await web.ds.query(
      `INSERT INTO audit_log (actor_type, actor_label, action, target_type, project_id) VALUES ('system', 'system', 'test.theirs', 'x', $1)`,
      [theirs],
    );
    const all = await list((await adminLogin(web, staff.user.email)).agent);
    expect(all.records!.some((r) => r.params.projectId === theirs)).toBe(true);
    expect(all.records!.some((r) => r.params.projectId === null)).toBe(true);

    const scoped = await list((await adminLogin(web, projectAdmin.user.email)).agent);
    expect(scoped.records!.length).toBeGreaterThan(0);
    expect(scoped.records!.every((r) => r.params.projectId === mine || r.params.projectId === projectAdmin.personal.id)).toBe(true);

    // The viewer owns their personal project: only its entries (there are none about it here).
    const v = await list((await adminLogin(web, viewer.user.email)).agent);
    expect((v.records ?? []).every((r) => r.params.projectId === viewer.personal.id)).toBe(true);
  });

  it('cannot be changed: new, edit, delete and bulk delete are refused and the row stays', async () => {
    const [{ id, action }] = await web.ds.query(`SELECT id, action FROM audit_log ORDER BY id LIMIT 1`);
    const { agent, base } = await adminLogin(web, staff.user.email);
    const tries = [
      agent
        .post('/admin/api/resources/AuditLog/actions/new')
        .set('Origin', base)
        .send({ action: 'forged', actorType: 'system', actorLabel: 'x', targetType: 'x' }),
      agent.post(`/admin/api/resources/AuditLog/records/${id}/edit`).set('Origin', base).send({ action: 'forged' }),
      agent.post(`/admin/api/resources/AuditLog/records/${id}/delete`).set('Origin', base).send({}),
      agent.post(`/admin/api/resources/AuditLog/bulk/bulkDelete?recordIds=${id}`).set('Origin', base).send({}),
    ];
    for (const res of await Promise.all(tries)) {
      expect(res.status === 403 || res.body?.notice?.type === 'error' || res.status >= 400).toBe(true);
    }
    const [row] = await web.ds.query(`SELECT action FROM audit_log WHERE id = $1`, [id]);
    expect(row?.action).toBe(action);
    expect((await web.ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'forged'`))[0].n).toBe(0);
  });
});

/**
 * The audit log through the real API: an entry for each family of change, with
 * before/after and no secret (checked in the database), who may read it, that it cannot
 * be changed, retention — and that every write route is either audited or says why not.
 */
import './helpers/dumpsEnv.ts'; // first: this file's own DUMPS_DIR (it uploads and deletes a dump)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import supertest from 'supertest';
import type { Web } from '../src/api/index.ts';
import { AUDITED, NOT_AUDITED } from '../src/api/audit.ts';
import { pruneAuditLogProcessor } from '../src/workers/pruneAuditLog.ts';
import { logger } from '../src/logger.ts';
import { createProjectWithKey, createUser, inviteAndAccept, PASSWORD, uniqueEmail, type TestUser } from './helpers/factories.ts';
import { storeErrors } from './helpers/adminData.ts';
import { dumpBytes } from './helpers/dumps.ts';
import { seed2Log, storeLogs } from './helpers/logs.ts';
import { expressRoutes, normalizePath } from './helpers/routes.ts';
import { startWeb } from './helpers/stack.ts';

let web: Web;
let http: ReturnType<typeof supertest>;
let staff: TestUser;
let owner: TestUser;
let projectId: number;
/** Every secret the tests create: none may appear in audit_log. */
const secrets: string[] = [PASSWORD];

type Entry = {
  id: string;
  actor_type: string;
  actor_id: number | null;
  actor_label: string;
  action: string;
  target_type: string;
  target_id: string | null;
  project_id: number | null;
  changes: Record<string, [unknown, unknown]>;
  ip: string | null;
  user_agent: string | null;
};
const as = (u: TestUser) => ({ Authorization: `Bearer ${u.access}` });
const UA = 'audit-test/1.0';

/** The newest entry with this action (and target id), straight from the table. */
async function entry(action: string, targetId?: string | number): Promise<Entry> {
  const params: unknown[] = [action];
  let sql = `SELECT * FROM audit_log WHERE action = $1`;
  if (targetId !== undefined) {
    params.push(String(targetId));
    sql += ` AND target_id = $2`;
  }
  const rows: Entry[] = await web.ds.query(`${sql} ORDER BY id DESC LIMIT 1`, params);
  if (!rows[0]) throw new Error(`no audit entry ${action} ${targetId ?? ''}`);
  return rows[0];
}

beforeAll(async () => {
  ({ web, http } = await startWeb());
  staff = await createUser(web.ds, { isStaff: true });
  owner = await createUser(web.ds);
  projectId = (await createProjectWithKey(web.ds, owner.user, 'Audited')).project.id;
});

afterAll(async () => {
  await web.close();
});

describe('what is recorded', () => {
  it('sign-in and a failed sign-in, with the client IP and user agent; the password never', async () => {
    const ok = await http.post('/api/auth/login/').set('User-Agent', UA).send({ email: owner.user.email, password: PASSWORD }).expect(200);
    secrets.push(ok.body.access, ok.body.refresh);
    const login = await entry('auth.login');
    expect(login).toMatchObject({ actor_type: 'user', actor_id: owner.user.id, actor_label: owner.user.email, user_agent: UA });
    expect(login.ip).toBeTruthy();
    await http.post('/auth/login/').set('User-Agent', UA).send({ username: owner.user.email, password: 'wrong-password-123' }).expect(401);
    secrets.push('wrong-password-123');
    expect(await entry('auth.login_failed')).toMatchObject({ actor_id: owner.user.id, actor_label: owner.user.email, changes: {} });
  });

  it('registration', async () => {
    const email = uniqueEmail('reg');
    const res = await http.post('/api/auth/register/').send({ email, password: 'another long password 1' }).expect(201);
    secrets.push('another long password 1', res.body.project.api_key);
    const e = await entry('user.register', res.body.id);
    expect(e).toMatchObject({ actor_type: 'user', actor_id: res.body.id, project_id: res.body.project.id });
    expect(e.changes.email).toEqual([null, email]);
    expect(e.changes.password_hash).toEqual([null, '[redacted]']);
  });

  it('users: create, update with before/after, deactivate, delete (staff)', async () => {
    const created = await http
      .post('/api/users/')
      .set(as(staff))
      .send({ email: uniqueEmail('u'), password: 'user password 12345', first_name: 'Ann' })
      .expect(201);
    secrets.push('user password 12345');
    expect((await entry('user.create', created.body.id)).actor_id).toBe(staff.user.id);
    await http
      .patch(`/api/users/${created.body.id}/`)
      .set(as(staff))
      .send({ first_name: 'Anna', password: 'a new password 98765' })
      .expect(200);
    secrets.push('a new password 98765');
    const upd = await entry('user.update', created.body.id);
    expect(upd.changes.first_name).toEqual(['Ann', 'Anna']);
    expect(upd.changes.password_hash).toEqual(['[redacted]', '[redacted]']);
    await http.patch(`/api/users/${created.body.id}/`).set(as(staff)).send({ is_active: false }).expect(200);
    expect((await entry('user.deactivate', created.body.id)).changes.is_active).toEqual([true, false]);
    await http.delete(`/api/users/${created.body.id}/`).set(as(staff)).expect(204);
    expect((await entry('user.delete', created.body.id)).changes.first_name).toEqual(['Anna', null]);
  });

  it('projects, members and roles, invitations', async () => {
    const p = await http.post('/api/projects/').set(as(owner)).send({ name: 'Temp' }).expect(201);
    expect((await entry('project.create', p.body.id)).project_id).toBe(p.body.id);
    await http.patch(`/api/projects/${p.body.id}/`).set(as(owner)).send({ name: 'Renamed' }).expect(200);
    expect((await entry('project.update', p.body.id)).changes.name).toEqual(['Temp', 'Renamed']);
    const friend = await createUser(web.ds);
    const member = await inviteAndAccept(http, p.body.id, owner.access, friend, 'viewer');
    expect((await entry('member.invite')).project_id).toBe(p.body.id);
    expect((await entry('invitation.accept')).actor_id).toBe(friend.user.id);
    await http.patch(`/api/projects/${p.body.id}/members/${member.id}/`).set(as(owner)).send({ role: 'member' }).expect(200);
    expect((await entry('member.role', member.id)).changes.role).toEqual(['viewer', 'member']);
    await http.delete(`/api/projects/${p.body.id}/members/${member.id}/`).set(as(owner)).expect(204);
    expect((await entry('member.remove', member.id)).project_id).toBe(p.body.id);
    await http.delete(`/api/projects/${p.body.id}/`).set(as(owner)).expect(204);
    expect((await entry('project.delete', p.body.id)).changes.name).toEqual(['Renamed', null]);
  });

  it('API keys and auth tokens: created and revoked, their secrets never', async () => {
    const key = await http.post('/api/apikeys/').set(as(owner)).send({ project: projectId, name: 'ci' }).expect(201);
    secrets.push(key.body.key);
    const made = await entry('api_key.create', key.body.id);
    expect(made).toMatchObject({ project_id: projectId, actor_id: owner.user.id });
    expect(made.changes.key_hash).toEqual([null, '[redacted]']);
    await http.delete(`/api/apikeys/${key.body.id}/`).set(as(owner)).expect(204);
    expect((await entry('api_key.revoke', key.body.id)).changes.revoked_at?.[0]).toBeNull();
    const token = await http
      .post('/api/auth-tokens/')
      .set(as(owner))
      .send({ name: 'cli', projects: [projectId] })
      .expect(201);
    secrets.push(token.body.token);
    await entry('auth_token.create', token.body.id);
    await http.delete(`/api/auth-tokens/${token.body.id}/`).set(as(owner)).expect(204);
    await entry('auth_token.revoke', token.body.id);
  });

  it('alert rules and channels (a webhook URL cut to its host), monitors, releases', async () => {
    const rule = await http
      .post(`/api/projects/${projectId}/alert-rules/`)
      .set(as(owner))
      .send({ name: 'new issues', trigger: 'issue.new' })
      .expect(201);
    await http.patch(`/api/projects/${projectId}/alert-rules/${rule.body.id}/`).set(as(owner)).send({ name: 'fresh issues' }).expect(200);
    expect((await entry('alert_rule.update', rule.body.id)).changes.name).toEqual(['new issues', 'fresh issues']);
    await http.delete(`/api/projects/${projectId}/alert-rules/${rule.body.id}/`).set(as(owner)).expect(204);
    await entry('alert_rule.delete', rule.body.id);
    const hook = 'https://93.184.216.34/hooks/T000/B000/xyzSecretPath';
    const ch = await http
      .post(`/api/projects/${projectId}/alert-channels/`)
      .set(as(owner))
      .send({ name: 'hook', type: 'webhook', url: hook })
      .expect(201);
    secrets.push(ch.body.secret, 'xyzSecretPath');
    const chEntry = await entry('alert_channel.create', ch.body.id);
    expect(chEntry.project_id).toBe(projectId);
    expect(chEntry.changes.sealed).toEqual([null, '[redacted]']);
    await http.delete(`/api/projects/${projectId}/alert-channels/${ch.body.id}/`).set(as(owner)).expect(204);
    await entry('alert_channel.delete', ch.body.id);
    const mon = await http
      .post(`/api/projects/${projectId}/monitors/`)
      .set(as(owner))
      .send({ slug: 'nightly', schedule: { type: 'crontab', value: '0 * * * *' } })
      .expect(201);
    await entry('monitor.create', mon.body.id);
    await http.post(`/api/projects/${projectId}/releases/`).set(as(owner)).send({ version: 'shop@1.0.0' }).expect(201);
    expect((await entry('release.create')).changes.version).toEqual([null, 'shop@1.0.0']);
  });

  it('a release made by sentry-cli with an auth token: the token is the actor', async () => {
    const token = await http
      .post('/api/auth-tokens/')
      .set(as(owner))
      .send({ name: 'cli', projects: [projectId] })
      .expect(201);
    secrets.push(token.body.token);
    await http
      .post('/api/0/organizations/acme/releases/')
      .set('Authorization', `Bearer ${token.body.token}`)
      .send({ version: 'cli@2.0.0', projects: [String(projectId)] })
      .expect(201);
    expect(await entry('release.create', 'cli@2.0.0')).toMatchObject({
      actor_type: 'auth_token',
      actor_id: token.body.id,
      project_id: projectId,
    });
  });

  it('issue workflow: status, assignment, comments', async () => {
    await storeErrors(web.ds, projectId, [{ message: 'audit boom', exception_type: 'AuditError' }]);
    const [{ id }] = await web.ds.query(`SELECT id FROM issues WHERE project_id = $1 ORDER BY id DESC LIMIT 1`, [projectId]);
    await http.patch(`/api/issues/${id}/`).set(as(owner)).send({ status: 'resolved' }).expect(200);
    expect((await entry('issue.status', id)).changes.status).toEqual(['unresolved', 'resolved']);
    await http.patch(`/api/issues/${id}/`).set(as(owner)).send({ assignee: owner.user.id }).expect(200);
    expect((await entry('issue.assign', id)).changes.assignee_id).toEqual([null, owner.user.id]);
    await http.post(`/api/issues/${id}/comments/`).set(as(owner)).send({ text: 'looking into it' }).expect(201);
    expect(await entry('issue.comment', id)).toMatchObject({ project_id: projectId, changes: { comment: [null, 'looking into it'] } });
  });

  it('deletes of data: a log', async () => {
    await storeLogs(web.ds, projectId, [seed2Log({ message: 'to be deleted' })]);
    const [{ id }] = await web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND kind = 'log' ORDER BY id DESC LIMIT 1`, [
      projectId,
    ]);
    await http.delete(`/api/logs/${id}/`).set(as(owner)).expect(204);
    expect(await entry('log.delete', id)).toMatchObject({ project_id: projectId, changes: { message: ['to be deleted', null] } });
  });

  it('deletes of data: a crash dump (and a label change before it)', async () => {
    const up = await http
      .post(`/api/dumps/?project=${projectId}`)
      .set(as(owner))
      .field('label', 'v1')
      .attach('file', dumpBytes(2048), 'crash.dmp');
    expect(up.status).toBe(201);
    await http.patch(`/api/dumps/${up.body.id}/`).set(as(owner)).send({ label: 'v2' }).expect(200);
    expect((await entry('dump.update', up.body.id)).changes.label).toEqual(['v1', 'v2']);
    await http.delete(`/api/dumps/${up.body.id}/`).set(as(owner)).expect(204);
    expect(await entry('dump.delete', up.body.id)).toMatchObject({
      project_id: projectId,
      changes: { original_name: ['crash.dmp', null], label: ['v2', null] },
    });
  });

  it('a refused change is not recorded', async () => {
    const before = (await web.ds.query(`SELECT count(*)::int AS n FROM audit_log`))[0].n;
    const stranger = await createUser(web.ds);
    await http.patch(`/api/projects/${projectId}/`).set(as(stranger)).send({ name: 'hijacked' }).expect(404);
    const after = (
      await web.ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'project.update' AND project_id = $1`, [projectId])
    )[0].n;
    expect(after).toBe(0);
    expect((await web.ds.query(`SELECT count(*)::int AS n FROM audit_log`))[0].n).toBeGreaterThanOrEqual(before);
  });

  it('no secret is stored anywhere in the log', async () => {
    const all = JSON.stringify(await web.ds.query(`SELECT * FROM audit_log`));
    for (const s of secrets.filter(Boolean)) expect(all).not.toContain(s);
    expect(all).toContain('https://93.184.216.34/…');
  });
});

describe('who may read it', () => {
  it('staff read everything; a project admin only their projects; a viewer 403, even naming the project', async () => {
    const admin = await createUser(web.ds);
    const viewer = await createUser(web.ds);
    await inviteAndAccept(http, projectId, owner.access, admin, 'admin');
    await inviteAndAccept(http, projectId, owner.access, viewer, 'viewer');
    const other = (await createProjectWithKey(web.ds, staff.user, 'Other')).project.id;
    await http.patch(`/api/projects/${other}/`).set(as(staff)).send({ name: 'Other renamed' }).expect(200);

    const all = await http.get('/api/audit-log/?page_size=1000').set(as(staff)).expect(200);
    expect(all.body.results.some((e: { project: number }) => e.project === other)).toBe(true);
    expect(all.body.results.some((e: { action: string }) => e.action === 'auth.login')).toBe(true);

    const mine = await http.get('/api/audit-log/?page_size=1000').set(as(admin)).expect(200);
    expect(mine.body.results.length).toBeGreaterThan(0);
    expect(mine.body.results.every((e: { project: number }) => e.project === projectId)).toBe(true);
    await http.get(`/api/audit-log/?project=${other}`).set(as(admin)).expect(404);

    // A viewer here owns only their personal project: they read its entries, none of this one's.
    const own = await http.get('/api/audit-log/?page_size=1000').set(as(viewer)).expect(200);
    expect(own.body.results.every((e: { project: number }) => e.project === viewer.personal.id)).toBe(true);
    await http.get(`/api/audit-log/?project=${projectId}`).set(as(viewer)).expect(403);
    await http.get(`/api/audit-log/?project=${projectId}&action=project`).set(as(viewer)).expect(403);
    await http.get('/api/audit-log/').expect(401);
  });

  it('filters by actor, action prefix, target, project and time; pages by cursor', async () => {
    const q = (s: string) => http.get(`/api/audit-log/?${s}`).set(as(staff)).expect(200);
    const byActor = await q(`actor=user:${owner.user.id}&page_size=1000`);
    expect(byActor.body.results.length).toBeGreaterThan(3);
    expect(byActor.body.results.every((e: { actor: { id: number } }) => e.actor.id === owner.user.id)).toBe(true);
    const alerts = await q('action=alert_&page_size=1000');
    expect(new Set(alerts.body.results.map((e: { action: string }) => e.action.split('.')[0]))).toEqual(
      new Set(['alert_rule', 'alert_channel']),
    );
    const target = await q('target_type=issue&page_size=1000');
    expect(target.body.results.every((e: { target: { type: string } }) => e.target.type === 'issue')).toBe(true);
    const future = await q(`since=${encodeURIComponent(new Date(Date.now() + 86400_000).toISOString())}`);
    expect(future.body.results).toEqual([]);
    const seen = new Set<number>();
    let next: string | null = `/api/audit-log/?project=${projectId}&cursor=&page_size=2`;
    while (next) {
      const url: URL = new URL(next, 'http://x');
      const page: supertest.Response = await http
        .get(url.pathname + url.search)
        .set(as(staff))
        .expect(200);
      for (const e of page.body.results) {
        expect(seen.has(e.id)).toBe(false);
        seen.add(e.id);
      }
      next = page.body.next;
    }
    const [{ n }] = await web.ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE project_id = $1`, [projectId]);
    expect(seen.size).toBe(n);
    await http.get('/api/audit-log/?actor=nobody').set(as(staff)).expect(400);
  });
});

describe('it cannot be changed', () => {
  it('has no write route in the API', async () => {
    const [{ id }] = await web.ds.query(`SELECT id FROM audit_log ORDER BY id LIMIT 1`);
    for (const m of ['post', 'put', 'patch', 'delete'] as const) {
      await http[m]('/api/audit-log/').set(as(staff)).send({}).expect(404);
      await http[m](`/api/audit-log/${id}/`).set(as(staff)).send({ action: 'x' }).expect(404);
    }
  });

  it('the table refuses UPDATE, DELETE and TRUNCATE', async () => {
    await expect(web.ds.query(`UPDATE audit_log SET action = 'forged'`)).rejects.toThrow(/append-only/);
    await expect(web.ds.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
    await expect(web.ds.query(`TRUNCATE audit_log`)).rejects.toThrow(/append-only/);
    expect((await web.ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'forged'`))[0].n).toBe(0);
  });

  it('retention prunes entries past AUDIT_LOG_RETENTION_DAYS, and only those', async () => {
    await web.ds.query(
      `INSERT INTO audit_log (time, actor_type, actor_label, action, target_type) VALUES (now() - interval '400 days', 'system', 'system', 'test.old', 'x'), (now() - interval '10 days', 'system', 'system', 'test.recent', 'x')`,
    );
    const result = await pruneAuditLogProcessor(
      web.ds,
      logger,
    )({ id: 'p', data: { retention_days: 365, batch_size: 1 } } as unknown as Job);
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect((await web.ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'test.old'`))[0].n).toBe(0);
    expect((await web.ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'test.recent'`))[0].n).toBe(1);
    const keep = await pruneAuditLogProcessor(web.ds, logger)({ id: 'p', data: { retention_days: 0 } } as unknown as Job);
    expect(keep.deleted).toBe(0);
  });
});

describe('coverage', () => {
  it('every write route of the API is audited or says why not', () => {
    const ingest = new Set(web.ingest.flatMap((r) => r.methods.map((m) => `${m.toLowerCase()} ${normalizePath(r.name)}`)));
    const audited = new Set(AUDITED.map((r) => `${r.method} ${normalizePath(r.path)}`));
    const missing = expressRoutes(web.app)
      .filter((r) => !['get', 'head', 'options'].includes(r.method))
      .map((r) => `${r.method} ${r.path}`)
      .filter((k) => !ingest.has(k) && !audited.has(k) && !(k in NOT_AUDITED));
    expect(missing).toEqual([]);
  });
});

import { DUMPS_DIR } from './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createApiKey } from '../src/domain/projects/projects.ts';
import type { MemberRole } from '../src/entities/ProjectMember.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { dumpRows, filesUnder, uploadCredentials } from './helpers/dumps.ts';
import { multipart, type Part } from './helpers/multipart.ts';
import { startWeb } from './helpers/stack.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let ds: DataSource;
let owner: TestUser;
let users: Record<'stranger' | MemberRole, TestUser> & { staff: TestUser };
let projectId: number;
let dumpId: string;

const addMember = (project: number, userId: number, role: MemberRole) =>
  ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)`, [project, userId, role]);

/** POST /api/dumps/ with the parts in the given order (order matters for anonymous uploads). */
function post(token: string | null, parts: Part[], query = '') {
  const form = multipart(parts);
  let req = stack.http.post(`/api/dumps/${query}`).set('Content-Type', form.contentType);
  if (token) req = req.set('Authorization', `Bearer ${token}`);
  return req.send(form.body);
}
const file: Part = { name: 'file', filename: 'crash.dmp', data: Buffer.from('MDMP-ish bytes') };
const liveFiles = () => filesUnder(DUMPS_DIR).filter((f) => !f.startsWith('.tmp') && !f.startsWith(`archive${path.sep}`));

beforeAll(async () => {
  stack = await startWeb();
  ds = stack.web.ds;
  owner = await createUser(ds);
  const [stranger, viewer, member, admin, staff] = await Promise.all([
    createUser(ds),
    createUser(ds),
    createUser(ds),
    createUser(ds),
    createUser(ds, { isStaff: true }),
  ]);
  users = { stranger, viewer, member, admin, staff };
  projectId = (await createProjectWithKey(ds, owner.user, 'Crashes')).project.id;
  for (const role of ['viewer', 'member', 'admin'] as const) await addMember(projectId, users[role].user.id, role);
  const res = await post(owner.access, [{ name: 'project', value: String(projectId) }, { name: 'label', value: 'seed' }, file]);
  expect(res.status).toBe(201);
  dumpId = res.body.id;
});
afterAll(async () => {
  await stack?.web.close();
});

describe('who may upload', () => {
  it('anonymous: 401 unless the project allows anonymous dumps and is named before the file', async () => {
    const before = liveFiles();
    expect((await post(null, [file])).status).toBe(401);
    expect((await post(null, [file], `?project=${projectId}`)).status).toBe(401); // not allowed yet
    const patch = await stack.http
      .patch(`/api/projects/${projectId}/`)
      .set('Authorization', `Bearer ${owner.access}`)
      .send({ settings: { allowAnonymousDumps: true } });
    expect(patch.status).toBe(200);
    try {
      const viaQuery = await post(null, [file], `?project=${projectId}`);
      expect(viaQuery.status).toBe(201);
      expect(viaQuery.body).toMatchObject({ project: projectId, uploader: { kind: 'anonymous', user: null, api_key: null } });
      expect((await post(null, [{ name: 'project', value: String(projectId) }, file])).status).toBe(201);
      // Named only after the file: refused before a byte is stored.
      const late = await post(null, [file, { name: 'project', value: String(projectId) }]);
      expect(late.status).toBe(401);
      expect((await post(null, [file], '?project=999999')).status).toBe(401); // same answer for a project that does not exist
      expect(liveFiles().length).toBe(before.length + 2);
    } finally {
      await stack.http
        .patch(`/api/projects/${projectId}/`)
        .set('Authorization', `Bearer ${owner.access}`)
        .send({ settings: { allowAnonymousDumps: false } });
    }
  });

  it('users: member and above upload; a viewer gets 403, a stranger 404, and nothing is stored', async () => {
    const before = (await dumpRows(ds, projectId)).length;
    const target = [{ name: 'project', value: String(projectId) }, file];
    expect((await post(users.stranger.access, target)).status).toBe(404);
    const viewer = await post(users.viewer.access, target);
    expect(viewer.status).toBe(403);
    expect((await post(users.viewer.access, [file, { name: 'project', value: String(projectId) }])).status).toBe(403); // project named after the file
    for (const who of [users.member, users.admin, owner, users.staff]) {
      const res = await post(who.access, target);
      expect(res.status).toBe(201);
      expect(res.body.uploader).toEqual({ kind: 'user', user: who.user.id, api_key: null });
    }
    expect((await dumpRows(ds, projectId)).length).toBe(before + 4);
    expect(filesUnder(path.join(DUMPS_DIR, '.tmp'))).toEqual([]);
  });

  it('a user without a project goes to their personal project; ?project= works too', async () => {
    const res = await post(users.member.access, [file]);
    expect(res.body.project).toBe(users.member.personal.id);
    expect((await post(users.member.access, [file], `?project=${projectId}`)).body.project).toBe(projectId);
    expectError(
      await post(users.member.access, [{ name: 'project', value: String(projectId) }, file], `?project=${users.member.personal.id}`),
      400,
      'project_conflict',
    );
  });

  it('machine token: uploads to its project only; revoking the key ends it at once', async () => {
    const { keyId, machine } = await uploadCredentials(ds, stack.http, projectId);
    const ok = await post(machine, [{ name: 'label', value: 'from-cpp' }, file]);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ project: projectId, label: 'from-cpp', uploader: { kind: 'machine', api_key: keyId } });
    expect((await post(machine, [{ name: 'project', value: String(owner.personal.id) }, file])).body.code).toBe('wrong_project');
    const revoke = await stack.http.delete(`/api/apikeys/${keyId}/`).set('Authorization', `Bearer ${owner.access}`);
    expect(revoke.status).toBe(204);
    const after = await post(machine, [file]);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('token_revoked');
  });

  it('machine token: listing, reading, downloading or changing dumps is 403', async () => {
    const { machine } = await uploadCredentials(ds, stack.http, projectId);
    const auth = { Authorization: `Bearer ${machine}` };
    for (const res of [
      await stack.http.get('/api/dumps/').set(auth),
      await stack.http.get(`/api/dumps/${dumpId}/`).set(auth),
      await stack.http.get(`/api/dumps/by-label/seed/`).set(auth),
      await stack.http.get(`/api/dumps/${dumpId}/download/`).set(auth),
      await stack.http.patch(`/api/dumps/${dumpId}/`).set(auth).send({ label: 'x' }),
      await stack.http.delete(`/api/dumps/${dumpId}/`).set(auth),
    ]) {
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'machine_token_not_allowed' });
    }
  });

  it('API keys: dumps:upload uploads; an ingest-only key is 403; an unknown key 401; keys cannot read', async () => {
    const { secret } = await createApiKey(ds.manager, projectId, { name: 'both', scopes: ['ingest', 'dumps:upload'], createdById: null });
    const ok = await post(secret, [file]);
    expect(ok.status).toBe(201);
    expect(ok.body.uploader.kind).toBe('api_key');
    const ingestOnly = (await createApiKey(ds.manager, projectId, { name: 'ingest', scopes: ['ingest'], createdById: null })).secret;
    expect((await post(ingestOnly, [file])).body.code).toBe('scope_missing');
    expect((await post('flk_NotARealKey0000000000000000000000', [file])).status).toBe(401);
    expect((await stack.http.get('/api/dumps/').set('Authorization', `Bearer ${secret}`)).status).toBe(401);
  });

  it('a refresh token or garbage is 401', async () => {
    expect((await post(owner.refresh, [file])).status).toBe(401);
    expect((await post('not.a.jwt', [file])).status).toBe(401);
  });
});

describe('who may read and change', () => {
  const as = (u: TestUser) => ({ Authorization: `Bearer ${u.access}` });

  it('a stranger sees nothing: 404 on the dump, its download and its project filter; absent from lists', async () => {
    const s = users.stranger;
    expect((await stack.http.get(`/api/dumps/${dumpId}/`).set(as(s))).status).toBe(404);
    expect((await stack.http.get(`/api/dumps/${dumpId}/download/`).set(as(s))).status).toBe(404);
    expect((await stack.http.patch(`/api/dumps/${dumpId}/`).set(as(s)).send({ label: 'x' })).status).toBe(404);
    expect((await stack.http.delete(`/api/dumps/${dumpId}/`).set(as(s))).status).toBe(404);
    expect((await stack.http.get(`/api/dumps/?project=${projectId}`).set(as(s))).status).toBe(404);
    const mine = await stack.http.get('/api/dumps/').set(as(s));
    expect(mine.body.results.map((d: { id: string }) => d.id)).not.toContain(dumpId);
    expect((await stack.http.get('/api/dumps/by-label/seed/').set(as(s))).body.count).toBe(0);
    expect((await stack.http.get('/api/dumps/not-a-uuid/').set(as(s))).status).toBe(404);
  });

  it('a viewer reads and downloads, but may not change (403)', async () => {
    const v = users.viewer;
    expect((await stack.http.get(`/api/dumps/${dumpId}/`).set(as(v))).status).toBe(200);
    expect((await stack.http.get(`/api/dumps/${dumpId}/download/`).set(as(v))).status).toBe(200);
    expect((await stack.http.get('/api/dumps/by-label/seed/').set(as(v))).body.results.map((d: { id: string }) => d.id)).toContain(dumpId);
    expect((await stack.http.patch(`/api/dumps/${dumpId}/`).set(as(v)).send({ label: 'x' })).status).toBe(403);
    expect((await stack.http.put(`/api/dumps/${dumpId}/`).set(as(v)).attach('file', Buffer.from('x'), 'x.dmp')).status).toBe(403);
    expect((await stack.http.delete(`/api/dumps/${dumpId}/`).set(as(v))).status).toBe(403);
  });

  it('a member changes the label; staff sees everything', async () => {
    const m = users.member;
    expect((await stack.http.patch(`/api/dumps/${dumpId}/`).set(as(m)).send({ label: 'seen' })).body.label).toBe('seen');
    expect((await stack.http.patch(`/api/dumps/${dumpId}/`).set(as(m)).type('form').send('label=')).body.label).toBeNull();
    expect((await stack.http.patch(`/api/dumps/${dumpId}/`).set(as(m)).send({})).body.code).toBe('nothing_to_change');
    expect((await stack.http.get(`/api/dumps/${dumpId}/`).set(as(users.staff))).status).toBe(200);
  });

  it('anonymous readers get 401', async () => {
    expect((await stack.http.get('/api/dumps/')).status).toBe(401);
    expect((await stack.http.get(`/api/dumps/${dumpId}/download/`)).status).toBe(401);
  });
});

/**
 * Project invitations: nobody joins a project without accepting, and inviting tells the
 * inviter nothing about who has an account. Co-members see only who each other are.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createProjectWithKey, createUser, inviteAndAccept, PASSWORD, uniqueEmail, type TestUser } from './helpers/factories.ts';
import { adminLogin, api } from './helpers/adminHttp.ts';
import { startWeb } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

const bearer = (u: TestUser) => `Bearer ${u.access}`;
const invite = (by: TestUser, projectId: number, email: string, role = 'member') =>
  stack.http.post(`/api/projects/${projectId}/members/`).set('Authorization', bearer(by)).send({ email, role });
const mine = (u: TestUser) => stack.http.get('/api/invitations/').set('Authorization', bearer(u));
const accept = (u: TestUser, id: number) => stack.http.post(`/api/invitations/${id}/accept/`).set('Authorization', bearer(u));
const decline = (u: TestUser, id: number) => stack.http.post(`/api/invitations/${id}/decline/`).set('Authorization', bearer(u));
const canSee = async (u: TestUser, projectId: number) =>
  (await stack.http.get(`/api/projects/${projectId}/`).set('Authorization', bearer(u))).status === 200;
const memberRows = async (projectId: number) =>
  (await stack.web.ds.query(`SELECT user_id FROM project_members WHERE project_id = $1`, [projectId])).length;

describe('inviting by email', () => {
  it('answers the same for a registered and an unknown address, and grants nothing', async () => {
    const owner = await createUser(stack.web.ds);
    const known = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Invites');
    const a = await invite(owner, project.id, known.user.email);
    const b = await invite(owner, project.id, uniqueEmail('nobody'));
    expect([a.status, b.status]).toEqual([201, 201]);
    const shape = (body: Record<string, unknown>) => ({ ...body, id: 0, email: '', created_at: '', expires_at: '' });
    expect(shape(a.body)).toEqual(shape(b.body));
    expect(a.body).toMatchObject({
      email: known.user.email,
      role: 'member',
      status: 'pending',
      accepted_at: null,
      project: { id: project.id, name: 'Invites' },
    });
    expect(new Date(a.body.expires_at).getTime()).toBeGreaterThan(Date.now());
    expect(await canSee(known, project.id)).toBe(false);
    expect((await stack.http.get(`/api/logs/?project=${project.id}`).set('Authorization', bearer(known))).status).toBe(404);
    expect(await memberRows(project.id)).toBe(0);
  });

  it('bad input is a 400 and creates nothing; inviting someone already in the project is a 409', async () => {
    const owner = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Strict');
    const bad = await invite(owner, project.id, 'not-an-email');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body).sort()).toEqual(['code', 'details', 'error']);
    expect((await invite(owner, project.id, uniqueEmail(), 'superuser')).status).toBe(400);
    expect((await stack.web.ds.query(`SELECT 1 FROM project_invitations WHERE project_id = $1`, [project.id])).length).toBe(0);
    expect((await invite(owner, project.id, owner.user.email)).body.code).toBe('already_member');
  });
});

describe('the invitee decides', () => {
  it('lists it, accepts it and becomes a member with its role; nobody else can accept it', async () => {
    const owner = await createUser(stack.web.ds);
    const invitee = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Consent');
    const inv = (await invite(owner, project.id, invitee.user.email.toUpperCase(), 'viewer')).body;
    expect((await mine(invitee)).body.results.map((i: { id: number }) => i.id)).toEqual([inv.id]);
    expect((await mine(stranger)).body.results).toEqual([]);
    for (const other of [stranger, owner]) {
      expect((await accept(other, inv.id)).status).toBe(404);
      expect((await decline(other, inv.id)).status).toBe(404);
    }
    expect(await memberRows(project.id)).toBe(0);

    const ok = await accept(invitee, inv.id);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: inv.id, status: 'accepted', member: { role: 'viewer', user: { id: invitee.user.id } } });
    expect((await stack.http.get(`/api/projects/${project.id}/`).set('Authorization', bearer(invitee))).body.role).toBe('viewer');
    expect((await mine(invitee)).body.results).toEqual([]);
    expect((await accept(invitee, inv.id)).status).toBe(404); // spent
  });

  it('declines it: no membership; a new invitation can still be accepted', async () => {
    const owner = await createUser(stack.web.ds);
    const invitee = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Maybe');
    const inv = (await invite(owner, project.id, invitee.user.email)).body;
    const no = await decline(invitee, inv.id);
    expect(no.status).toBe(200);
    expect(no.body.status).toBe('declined');
    expect((await accept(invitee, inv.id)).status).toBe(404);
    expect(await canSee(invitee, project.id)).toBe(false);
    const listed = await stack.http.get(`/api/projects/${project.id}/invitations/`).set('Authorization', bearer(owner));
    expect(listed.body.results).toMatchObject([{ id: inv.id, status: 'declined' }]);

    const again = (await invite(owner, project.id, invitee.user.email, 'admin')).body;
    expect(again).toMatchObject({ id: inv.id, status: 'pending', role: 'admin' }); // renewed
    expect((await accept(invitee, again.id)).body.member.role).toBe('admin');
  });

  it('an invitation to an address that registers later is theirs to accept; an expired one is not', async () => {
    const owner = await createUser(stack.web.ds);
    const email = uniqueEmail('later');
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Later');
    const inv = (await invite(owner, project.id, email)).body;
    const late = await createUser(stack.web.ds, { email });
    expect((await mine(late)).body.results.map((i: { id: number }) => i.id)).toEqual([inv.id]);
    await stack.web.ds.query(`UPDATE project_invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, [inv.id]);
    expect((await mine(late)).body.results).toEqual([]);
    const expired = await accept(late, inv.id);
    expect(expired.status).toBe(409);
    expect(expired.body.code).toBe('invitation_expired');
    expect(await canSee(late, project.id)).toBe(false);
  });
});

describe("the project's side", () => {
  it('managers list and revoke pending invitations; a revoked one cannot be accepted; viewers see none', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const invitee = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Managed');
    await inviteAndAccept(stack.http, project.id, owner.access, viewer, 'viewer');
    const inv = (await invite(owner, project.id, invitee.user.email)).body;
    const path = `/api/projects/${project.id}/invitations/`;
    const listed = await stack.http.get(path).set('Authorization', bearer(owner));
    expect(listed.body).toMatchObject({ count: 1, results: [{ id: inv.id, email: invitee.user.email, status: 'pending' }] });
    expect((await stack.http.get(path).set('Authorization', bearer(viewer))).status).toBe(403);
    expect((await stack.http.delete(`${path}${inv.id}/`).set('Authorization', bearer(viewer))).status).toBe(403);
    await stack.http.delete(`${path}${inv.id}/`).set('Authorization', bearer(owner)).expect(204);
    expect((await accept(invitee, inv.id)).status).toBe(404);
    expect((await stack.http.delete(`${path}${inv.id}/`).set('Authorization', bearer(owner))).status).toBe(404);
  });
});

describe('the admin', () => {
  it('"new member" sends an invitation; nobody joins until they accept', async () => {
    const owner = await createUser(stack.web.ds);
    const invitee = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Admin invites');
    const { agent, base } = await adminLogin(stack.web, owner.user.email, PASSWORD);
    const res = await agent
      .post('/admin/api/resources/ProjectMember/actions/new')
      .set('Origin', base)
      .field('projectId', String(project.id))
      .field('email', invitee.user.email)
      .field('role', 'viewer');
    expect(res.body.notice).toMatchObject({ type: 'success', message: expect.stringContaining('Invitation sent') });
    expect(await memberRows(project.id)).toBe(0);
    const [inv] = (await mine(invitee)).body.results;
    expect(inv).toMatchObject({ project: { id: project.id }, role: 'viewer', status: 'pending' });
    await accept(invitee, inv.id).expect(200);
    expect(await canSee(invitee, project.id)).toBe(true);
  });

  it("a co-member's user search shows who they are, not their staff status or last login", async () => {
    const staffOwner = await createUser(stack.web.ds, { isStaff: true });
    const viewer = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, staffOwner.user, 'Co-members');
    await inviteAndAccept(stack.http, project.id, staffOwner.access, viewer, 'viewer');
    const { agent } = await adminLogin(stack.web, viewer.user.email, PASSWORD);
    const found = await api(agent, `/resources/User/actions/search/${encodeURIComponent(staffOwner.user.email)}`);
    expect(found.status).toBe(200);
    const record = found.body.records.find((r: { id: string }) => String(r.id) === String(staffOwner.user.id));
    expect(Object.keys(record.params).sort()).toEqual(['email', 'firstName', 'id', 'lastName']);
  });
});

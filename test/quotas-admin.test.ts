/**
 * Quotas in the admin: overrides created there take effect on ingestion (the same domain
 * save as the API), only for admins of the project; the dashboard shows the day's refusals
 * and, to staff, the database size and the data volumes' free space.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startWeb } from './helpers/stack.ts';
import { createUser, inviteAndAccept, pantiesEvent } from './helpers/factories.ts';
import { adminLogin, api } from './helpers/adminHttp.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

const post = (key: string) => stack.http.post('/api/events/').set('Authorization', `Bearer ${key}`).send(pantiesEvent());

describe('quota overrides in the admin', () => {
  it("an admin's override limits ingestion; a member cannot create one; the dashboard shows the refusal", async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const owner = await createUser(stack.web.ds);
    const member = await createUser(stack.web.ds);
    await inviteAndAccept(stack.http, owner.personal.id, owner.access, member, 'member');

    const asMember = await adminLogin(stack.web, member.user.email);
    const refused = await asMember.agent
      .post('/admin/api/resources/QuotaOverride/actions/new')
      .set('Origin', asMember.base)
      .field('projectId', String(owner.personal.id))
      .field('eventsPerMinute', '0');
    expect(refused.body.notice?.type).toBe('error');
    expect(
      (await stack.web.ds.query(`SELECT count(*)::int AS n FROM quota_overrides WHERE project_id = $1`, [owner.personal.id]))[0].n,
    ).toBe(0);

    const asStaff = await adminLogin(stack.web, staff.user.email);
    const created = await asStaff.agent
      .post('/admin/api/resources/QuotaOverride/actions/new')
      .set('Origin', asStaff.base)
      .field('projectId', String(owner.personal.id))
      .field('eventsPerMinute', '1');
    expect(created.body.record?.params).toMatchObject({ projectId: owner.personal.id, eventsPerMinute: 1 });

    await post(owner.apiKey).expect(202);
    await post(owner.apiKey).expect(429);

    const dashboard = (await api(asStaff.agent, '/dashboard')).body;
    expect(dashboard.refused).toEqual(
      expect.arrayContaining([{ project_id: owner.personal.id, category: 'error', reason: 'project_quota', count: 1 }]),
    );
    expect(dashboard.storage.databaseBytes).toBeGreaterThan(0);
    expect(dashboard.storage.volumes.map((v: { volume: string }) => v.volume)).toEqual(expect.arrayContaining(['dumps', 'artifacts']));
    // The owner sees their project's refusals, not the instance's storage.
    const asOwner = await adminLogin(stack.web, owner.user.email);
    const own = (await api(asOwner.agent, '/dashboard')).body;
    expect(own.refused).toEqual([{ project_id: owner.personal.id, category: 'error', reason: 'project_quota', count: 1 }]);
    expect(own.storage).toBeNull();
  });
});

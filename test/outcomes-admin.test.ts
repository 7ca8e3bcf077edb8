/** The admin's "Dropped data" (the outcomes table, read-only, per project) and inbound filters (project admins). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import supertest from 'supertest';
import type { Web } from '../src/api/index.ts';
import { outcomes } from '../src/domain/outcomes/recorder.ts';
import { createUser, inviteAndAccept } from './helpers/factories.ts';
import { startWeb } from './helpers/stack.ts';
import { adminLogin, api } from './helpers/adminHttp.ts';

let web: Web;
beforeAll(async () => {
  ({ web } = await startWeb());
});
afterAll(async () => {
  await web.close();
});

type Row = { params: Record<string, unknown>; recordActions: Array<{ name: string }> };

describe('admin: what was dropped and why', () => {
  it("lists a project's outcomes to its members only, and offers no way to change them", async () => {
    const owner = await createUser(web.ds);
    const stranger = await createUser(web.ds);
    outcomes.record({ projectId: owner.personal.id, category: 'error', outcome: 'filtered', reason: 'web-crawlers', quantity: 3 });
    outcomes.record({ projectId: stranger.personal.id, category: 'error', outcome: 'filtered', reason: 'theirs', quantity: 1 });
    await outcomes.flush();

    const asOwner = await adminLogin(web, owner.user.email);
    const list = await api(asOwner.agent, `/resources/DroppedData/actions/list?filters.projectId=${owner.personal.id}`);
    expect(list.status).toBe(200);
    const rows = list.body.records as Row[];
    expect(rows.map((r) => [r.params.category, r.params.outcome, r.params.reason, Number(r.params.quantity)])).toEqual([
      ['error', 'filtered', 'web-crawlers', 3],
    ]);
    expect(rows[0].recordActions.map((a) => a.name)).toEqual(['show']);
    const all = await api(asOwner.agent, '/resources/DroppedData/actions/list?perPage=100');
    expect((all.body.records as Row[]).map((r) => r.params.reason)).not.toContain('theirs');
  });

  it('a project admin turns filters on from the admin (applied through the same service as the API); a member cannot', async () => {
    const owner = await createUser(web.ds);
    const member = await createUser(web.ds);
    await inviteAndAccept(supertest(web.server), owner.personal.id, owner.access, member, 'member');

    const asMember = await adminLogin(web, member.user.email);
    const sneaky = await asMember.agent
      .post('/admin/api/resources/InboundFilter/actions/new')
      .set('Origin', asMember.base)
      .field('projectId', String(owner.personal.id))
      .field('webCrawlers', 'true');
    expect(sneaky.body.notice?.type).toBe('error');

    const asOwner = await adminLogin(web, owner.user.email);
    const made = await asOwner.agent
      .post('/admin/api/resources/InboundFilter/actions/new')
      .set('Origin', asOwner.base)
      .field('projectId', String(owner.personal.id))
      .field('webCrawlers', 'true')
      .field('errorMessages', '*ResizeObserver*\n\n  Script error.  ');
    expect(made.body.notice?.type).toBe('success');
    const edited = await asOwner.agent
      .post(`/admin/api/resources/InboundFilter/records/${owner.personal.id}/edit`)
      .set('Origin', asOwner.base)
      .field('localhost', 'true')
      .field('releases', '*-dev');
    expect(edited.body.notice?.type).toBe('success');

    const viaApi = await supertest(web.server)
      .get(`/api/projects/${owner.personal.id}/inbound-filters/`)
      .set('Authorization', `Bearer ${owner.access}`);
    expect(viaApi.body).toMatchObject({
      web_crawlers: true,
      localhost: true,
      legacy_browsers: false,
      error_messages: ['*ResizeObserver*', 'Script error.'],
      releases: ['*-dev'],
    });
    const memberView = await api(asMember.agent, '/resources/InboundFilter/actions/list');
    const row = (memberView.body.records as Row[]).find((r) => Number(r.params.projectId) === owner.personal.id);
    expect(row).toBeTruthy();
    expect(row!.recordActions.map((a) => a.name)).not.toContain('edit');
  });
});

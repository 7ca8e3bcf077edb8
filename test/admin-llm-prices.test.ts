/** LLM price overrides in the admin: the same rules as /api/llm-prices/ (admins of a project; staff instance-wide). */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Web } from '../src/api/index.ts';
import { createUser, inviteAndAccept } from './helpers/factories.ts';
import { startWeb } from './helpers/stack.ts';
import { adminLogin, api } from './helpers/adminHttp.ts';
import supertest from 'supertest';

let web: Web;
beforeAll(async () => {
  ({ web } = await startWeb());
});
afterAll(async () => {
  await web.close();
});

const pricesOf = async (model: string) =>
  web.ds.query(`SELECT project_id, model, input_per_million FROM llm_prices WHERE model = $1`, [model]);

describe('admin: LLM prices', () => {
  it('a project owner overrides a price for their project; a member cannot; only staff set instance-wide ones', async () => {
    const owner = await createUser(web.ds);
    const member = await createUser(web.ds);
    await inviteAndAccept(supertest(web.server), owner.personal.id, owner.access, member, 'member');
    const staff = await createUser(web.ds, { isStaff: true });

    const asOwner = await adminLogin(web, owner.user.email);
    const made = await asOwner.agent
      .post('/admin/api/resources/LlmPrice/actions/new')
      .set('Origin', asOwner.base)
      .field('projectId', String(owner.personal.id))
      .field('model', 'claude-3-5-sonnet*')
      .field('inputPerMillion', '2')
      .field('outputPerMillion', '10');
    expect(made.body.notice?.type).toBe('success');
    expect(await pricesOf('claude-3-5-sonnet*')).toEqual([
      { project_id: owner.personal.id, model: 'claude-3-5-sonnet*', input_per_million: 2 },
    ]);
    const instance = await asOwner.agent
      .post('/admin/api/resources/LlmPrice/actions/new')
      .set('Origin', asOwner.base)
      .field('model', 'everyone-*')
      .field('inputPerMillion', '1')
      .field('outputPerMillion', '1');
    expect(instance.body.notice?.type).toBe('error');

    const asMember = await adminLogin(web, member.user.email);
    const sneaky = await asMember.agent
      .post('/admin/api/resources/LlmPrice/actions/new')
      .set('Origin', asMember.base)
      .field('projectId', String(owner.personal.id))
      .field('model', 'sneaky*')
      .field('inputPerMillion', '0')
      .field('outputPerMillion', '0');
    expect(sneaky.body.notice?.type).toBe('error');
    expect(await pricesOf('sneaky*')).toEqual([]);
    // The member reads the project's price, but may not edit it.
    const list = await api(asMember.agent, '/resources/LlmPrice/actions/list');
    const row = list.body.records.find((r: { params: { model: string } }) => r.params.model === 'claude-3-5-sonnet*');
    expect(row).toBeTruthy();
    expect(row.recordActions.map((a: { name: string }) => a.name)).not.toContain('edit');

    const asStaff = await adminLogin(web, staff.user.email);
    const global = await asStaff.agent
      .post('/admin/api/resources/LlmPrice/actions/new')
      .set('Origin', asStaff.base)
      .field('model', 'house-*')
      .field('inputPerMillion', '3')
      .field('outputPerMillion', '4');
    expect(global.body.notice?.type).toBe('success');
    expect(await pricesOf('house-*')).toEqual([{ project_id: null, model: 'house-*', input_per_million: 3 }]);

    // A stranger's admin never sees another project's prices.
    const stranger = await createUser(web.ds);
    const asStranger = await adminLogin(web, stranger.user.email);
    const theirs = await api(asStranger.agent, '/resources/LlmPrice/actions/list');
    expect(theirs.body.records.map((r: { params: { model: string } }) => r.params.model)).not.toContain('claude-3-5-sonnet*');
  });
});

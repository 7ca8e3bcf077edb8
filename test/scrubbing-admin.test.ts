/** Scrubbing in the admin: rules managed by a project's admins and owner (same checks as the API); marks on show pages. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import supertest from 'supertest';
import type { Web } from '../src/api/index.ts';
import { createUser, inviteAndAccept } from './helpers/factories.ts';
import { adminLogin, api } from './helpers/adminHttp.ts';
import { storeErrors } from './helpers/adminData.ts';
import { startWeb } from './helpers/stack.ts';

let web: Web;
beforeAll(async () => {
  ({ web } = await startWeb());
});
afterAll(async () => {
  await web.close();
});

const rulesOf = (projectId: number) =>
  web.ds.query(`SELECT kind, pattern, action FROM scrubbing_rules WHERE project_id = $1 ORDER BY id`, [projectId]);

describe('admin: scrubbing rules', () => {
  it('the owner adds a rule; a bad regex is refused; a member can read but not add', async () => {
    const owner = await createUser(web.ds);
    const member = await createUser(web.ds);
    await inviteAndAccept(supertest(web.server), owner.personal.id, owner.access, member, 'member');

    const asOwner = await adminLogin(web, owner.user.email);
    const made = await asOwner.agent
      .post('/admin/api/resources/ScrubbingRule/actions/new')
      .set('Origin', asOwner.base)
      .field('projectId', String(owner.personal.id))
      .field('kind', 'key')
      .field('pattern', 'extra.customer.*')
      .field('action', 'hash');
    expect(made.body.notice?.type).toBe('success');
    const bad = await asOwner.agent
      .post('/admin/api/resources/ScrubbingRule/actions/new')
      .set('Origin', asOwner.base)
      .field('projectId', String(owner.personal.id))
      .field('kind', 'regex')
      .field('pattern', '(?<=x)y')
      .field('action', 'mask');
    expect(bad.body.notice?.type).toBe('error');
    expect(await rulesOf(owner.personal.id)).toEqual([{ kind: 'key', pattern: 'extra.customer.*', action: 'hash' }]);

    const asMember = await adminLogin(web, member.user.email);
    const sneaky = await asMember.agent
      .post('/admin/api/resources/ScrubbingRule/actions/new')
      .set('Origin', asMember.base)
      .field('projectId', String(owner.personal.id))
      .field('kind', 'email')
      .field('action', 'remove');
    expect(sneaky.body.notice?.type).toBe('error');
    expect(await rulesOf(owner.personal.id)).toHaveLength(1);
    const list = await api(asMember.agent, '/resources/ScrubbingRule/actions/list');
    const row = list.body.records.find((r: { params: { projectId: number } }) => r.params.projectId === owner.personal.id);
    expect(row).toBeTruthy();
    expect(row.recordActions.map((a: { name: string }) => a.name)).not.toContain('edit');
  });

  it("an event's show page carries its scrubbed marks", async () => {
    const owner = await createUser(web.ds);
    await storeErrors(web.ds, owner.personal.id, [{ message: 'db login failed with password=hunter22', exception_type: 'DbError' }]);
    const [event] = await web.ds.query(`SELECT id, message, scrubbed FROM events WHERE project_id = $1`, [owner.personal.id]);
    expect(event.message).toBe('db login failed with password=[Filtered]');
    const asOwner = await adminLogin(web, owner.user.email);
    const show = await api(asOwner.agent, `/resources/Event/records/${event.id}/show`);
    expect(show.status).toBe(200);
    expect(JSON.stringify(show.body.record.params)).toContain('default:secret-key-value');
  });
});

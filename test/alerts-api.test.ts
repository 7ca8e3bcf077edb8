/**
 * Issue 13, the API side: alert rules, channels and cron monitors per project, with
 * their validation (400 names the field, nothing is saved) and secrets that are shown
 * once. Real HTTP, real PostgreSQL. (Roles per endpoint: authz-matrix.test.ts.)
 */
import './helpers/alertsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startWeb } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let owner: TestUser;
let project: number;

beforeAll(async () => {
  stack = await startWeb();
  owner = await createUser(stack.web.ds);
  project = owner.personal.id;
});
afterAll(async () => {
  await stack.web.close();
});

const as = (u: TestUser) => ({
  get: (p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`),
  post: (p: string, b?: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b),
  patch: (p: string, b: object) => stack.http.patch(p).set('Authorization', `Bearer ${u.access}`).send(b),
  delete: (p: string) => stack.http.delete(p).set('Authorization', `Bearer ${u.access}`),
});
const rulesUrl = () => `/api/projects/${project}/alert-rules/`;
const channelsUrl = () => `/api/projects/${project}/alert-channels/`;
const count = async (table: string) =>
  (await stack.web.ds.query(`SELECT count(*)::int AS n FROM ${table} WHERE project_id = $1`, [project]))[0].n as number;

async function webhook(name = 'hook') {
  const res = await as(owner).post(channelsUrl(), { name, type: 'webhook', url: 'http://127.0.0.1:9/hooks/faultline?token=abcdef123456' });
  expect(res.status).toBe(201);
  return res.body as { id: number; secret: string; target: string };
}

describe('alert channels', () => {
  it('a webhook channel answers its signing secret once; its URL is masked ever after and sealed at rest', async () => {
    const created = await webhook();
    expect(created.secret).toMatch(/^whsec_[\w-]{32}$/);
    expect(created.target).toBe('http://127.0.0.1:9/…3456');
    const shown = await as(owner).get(`${channelsUrl()}${created.id}/`);
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain('abcdef123456');
    expect(shown.body).not.toHaveProperty('secret');
    const listed = await as(owner).get(channelsUrl());
    expect(JSON.stringify(listed.body)).not.toContain(created.secret);
    const [row] = await stack.web.ds.query(`SELECT sealed, config::text AS config, target_hint FROM alert_channels WHERE id = $1`, [
      created.id,
    ]);
    expect(row.sealed).toMatch(/^v1\./);
    expect(`${row.sealed}${row.config}${row.target_hint}`).not.toContain('abcdef123456');
    expect(`${row.sealed}${row.config}`).not.toContain(created.secret);

    const rotated = await as(owner).patch(`${channelsUrl()}${created.id}/`, { rotate_secret: true });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    expect(rotated.body.target).toBe(created.target); // same URL
  });

  it.each([
    ['a URL that is not http(s)', { name: 'x', type: 'webhook', url: 'ftp://example.com/hook' }, 'url'],
    ['a javascript: URL', { name: 'x', type: 'slack', url: 'javascript:alert(1)' }, 'url'],
    ['no URL for a webhook', { name: 'x', type: 'discord' }, 'url'],
    ['an email address that is not one', { name: 'x', type: 'email', addresses: ['ops@example.com', 'not-an-address'] }, 'addresses.1'],
    ['email without recipients', { name: 'x', type: 'email' }, 'addresses'],
    ['an unknown role', { name: 'x', type: 'email', roles: ['boss'] }, 'roles.0'],
    ['an unknown type', { name: 'x', type: 'pager', url: 'https://example.com' }, 'type'],
    ['an unknown field', { name: 'x', type: 'webhook', url: 'https://example.com', colour: 'red' }, 'colour'],
  ])('%s is a 400 naming the field, and saves nothing', async (_what, body, field) => {
    const before = await count('alert_channels');
    const res = await as(owner).post(channelsUrl(), body);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'details', 'error']);
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain(field);
    expect(await count('alert_channels')).toBe(before);
  });

  it('email channels send to addresses and to members by role', async () => {
    const res = await as(owner).post(channelsUrl(), {
      name: 'ops mail',
      type: 'email',
      addresses: ['Ops@Example.com'],
      roles: ['owner', 'admin'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'email', addresses: ['ops@example.com'], roles: ['owner', 'admin'], secret: null });
  });
});

describe('alert rules', () => {
  it('are created, read, snoozed, changed and deleted', async () => {
    const channel = await webhook('rules');
    const created = await as(owner).post(rulesUrl(), {
      name: 'Prod errors',
      trigger: 'events.threshold',
      params: { kind: 'error', threshold: 50, window_minutes: 5 },
      filters: { environments: ['production'], min_level: 'ERROR', tags: ['team=payments'] },
      channels: [channel.id],
      cooldown_minutes: 30,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Prod errors',
      trigger: 'events.threshold',
      params: { kind: 'error', threshold: 50, window_minutes: 5 },
      filters: { environments: ['production'], min_level: 'error', tags: ['team=payments'] },
      channels: [channel.id],
      cooldown_minutes: 30,
      digest_minutes: 0,
      snoozed_until: null,
      enabled: true,
    });
    const url = `${rulesUrl()}${created.body.id}/`;
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const snoozed = await as(owner).patch(url, { snoozed_until: until });
    expect(snoozed.status).toBe(200);
    expect(snoozed.body.snoozed_until).toBe(until);
    expect(snoozed.body.params).toEqual(created.body.params); // untouched

    // A new trigger needs its own params: checked like a new rule.
    const bad = await as(owner).patch(url, { trigger: 'issue.frequency' });
    expectError(bad, 400, 'validation_error');
    expect(bad.body.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(['params.threshold', 'params.window_minutes']),
    );
    const changed = await as(owner).patch(url, { trigger: 'issue.frequency', params: { threshold: 10, window_minutes: 60 }, filters: {} });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ trigger: 'issue.frequency', params: { threshold: 10, window_minutes: 60 }, filters: {} });

    expect((await as(owner).get(rulesUrl())).body.results.map((r: { id: number }) => r.id)).toContain(created.body.id);
    expect((await as(owner).delete(url)).status).toBe(204);
    expect((await as(owner).get(url)).status).toBe(404);
  });

  it.each([
    ['an unknown trigger', { name: 'x', trigger: 'issue.exploded' }, 'trigger'],
    [
      'an unknown params field',
      { name: 'x', trigger: 'issue.frequency', params: { threshold: 5, window_minutes: 5, windw: 3 } },
      'params.windw',
    ],
    [
      'a negative window',
      { name: 'x', trigger: 'events.threshold', params: { threshold: 5, window_minutes: -5 } },
      'params.window_minutes',
    ],
    ['a zero threshold', { name: 'x', trigger: 'issue.frequency', params: { threshold: 0, window_minutes: 5 } }, 'params.threshold'],
    ['an unknown filter field', { name: 'x', trigger: 'issue.new', filters: { enviroments: ['prod'] } }, 'filters.enviroments'],
    ['a filter the trigger does not take', { name: 'x', trigger: 'issue.new', filters: { search: 'timeout' } }, 'filters.search'],
    ['an unknown level', { name: 'x', trigger: 'issue.new', filters: { min_level: 'apocalyptic' } }, 'filters.min_level'],
    ['a tag that is not key=value', { name: 'x', trigger: 'issue.new', filters: { tags: ['team'] } }, 'filters.tags.0'],
    [
      'an error rate above 1',
      { name: 'x', trigger: 'llm.threshold', params: { metric: 'error_rate', threshold: 20, window_minutes: 5 } },
      'params.threshold',
    ],
    ['a negative cooldown', { name: 'x', trigger: 'issue.new', cooldown_minutes: -1 }, 'cooldown_minutes'],
    ['a channel of no one', { name: 'x', trigger: 'issue.new', channels: [2 ** 31 - 2] }, 'channels.0'],
    ['an unknown top-level field', { name: 'x', trigger: 'issue.new', severity: 'high' }, 'severity'],
  ])('%s is a 400 naming the field, and saves nothing', async (_what, body, field) => {
    const before = await count('alert_rules');
    const res = await as(owner).post(rulesUrl(), body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_error');
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain(field);
    expect(await count('alert_rules')).toBe(before);
  });

  it("another project's channel cannot be named, and its rules are 404", async () => {
    const other = await createUser(stack.web.ds);
    const theirs = await as(other).post(`/api/projects/${other.personal.id}/alert-channels/`, {
      name: 'theirs',
      type: 'webhook',
      url: 'http://127.0.0.1:9/x',
    });
    expect(theirs.status).toBe(201);
    const res = await as(owner).post(rulesUrl(), { name: 'x', trigger: 'issue.new', channels: [theirs.body.id] });
    expectError(res, 400, 'validation_error');
    expect(res.body.details).toEqual([{ path: 'channels.0', message: expect.stringContaining('no alert channel') }]);
    const rule = await as(other).post(`/api/projects/${other.personal.id}/alert-rules/`, { name: 'mine', trigger: 'issue.new' });
    expect((await as(owner).get(`/api/projects/${other.personal.id}/alert-rules/${rule.body.id}/`)).status).toBe(404);
    expect((await as(owner).get(`/api/projects/${project}/alert-rules/${rule.body.id}/`)).status).toBe(404);
    expect((await as(owner).get(`/api/projects/${project}/alert-channels/${theirs.body.id}/`)).status).toBe(404);
  });
});

describe('cron monitors', () => {
  it.each([
    ['a cron expression that does not parse', { slug: 'a', schedule: { type: 'crontab', value: '61 * * * *' } }, 'schedule.value'],
    ['a crontab with 4 fields', { slug: 'a', schedule: { type: 'crontab', value: '* * * *' } }, 'schedule.value'],
    ['an unknown interval unit', { slug: 'a', schedule: { type: 'interval', value: 5, unit: 'fortnight' } }, 'schedule.unit'],
    ['a timezone that is none', { slug: 'a', schedule: { type: 'crontab', value: '0 * * * *' }, timezone: 'Mars/Olympus' }, 'timezone'],
    ['a negative margin', { slug: 'a', schedule: { type: 'crontab', value: '0 * * * *' }, checkin_margin: -1 }, 'checkin_margin'],
    ['a slug with spaces', { slug: 'my job', schedule: { type: 'crontab', value: '0 * * * *' } }, 'slug'],
  ])('%s is a 400 naming the field, and saves nothing', async (_what, body, field) => {
    const before = await count('monitors');
    const res = await as(owner).post(`/api/projects/${project}/monitors/`, body);
    expectError(res, 400, 'validation_error');
    expect(res.body.details.map((d: { path: string }) => d.path)).toContain(field);
    expect(await count('monitors')).toBe(before);
  });

  it('a crontab monitor expects its next run at once; an interval one after its first check-in', async () => {
    const cron = await as(owner).post(`/api/projects/${project}/monitors/`, {
      slug: 'nightly',
      schedule: { type: 'crontab', value: '0 2 * * *' },
      timezone: 'Europe/Berlin',
    });
    expect(cron.status).toBe(201);
    expect(cron.body).toMatchObject({
      slug: 'nightly',
      name: 'nightly',
      status: 'new',
      timezone: 'Europe/Berlin',
      checkin_margin: 1,
      max_runtime: 30,
    });
    // 02:00 in Berlin is 00:00 or 01:00 UTC.
    expect(new Date(cron.body.next_expected_at).getUTCMinutes()).toBe(0);
    expect([0, 1]).toContain(new Date(cron.body.next_expected_at).getUTCHours());
    const every = await as(owner).post(`/api/projects/${project}/monitors/`, {
      slug: 'sync',
      schedule: { type: 'interval', value: 10, unit: 'minute' },
    });
    expect(every.body).toMatchObject({ schedule: { type: 'interval', value: 10, unit: 'minute' }, next_expected_at: null });
    const dup = await as(owner).post(`/api/projects/${project}/monitors/`, {
      slug: 'sync',
      schedule: { type: 'interval', value: 10, unit: 'minute' },
    });
    expect(dup.status).toBe(409);
    const listed = await as(owner).get(`/api/projects/${project}/monitors/`);
    expect(listed.body.results.map((m: { slug: string }) => m.slug)).toEqual(expect.arrayContaining(['nightly', 'sync']));
    expect(listed.body.results[0].last_checkins).toEqual([]);
  });
});

describe('the OpenAPI document', () => {
  it('documents every alert and monitor route', async () => {
    const doc = (await stack.http.get('/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    for (const [path, methods] of [
      ['/api/projects/{id}/alert-rules/', ['get', 'post']],
      ['/api/projects/{id}/alert-rules/{ruleId}/', ['get', 'patch', 'delete']],
      ['/api/projects/{id}/alert-channels/', ['get', 'post']],
      ['/api/projects/{id}/alert-channels/{channelId}/', ['get', 'patch', 'delete']],
      ['/api/projects/{id}/alert-channels/{channelId}/test/', ['post']],
      ['/api/projects/{id}/alert-channels/{channelId}/deliveries/', ['get']],
      ['/api/projects/{id}/alert-firings/', ['get']],
      ['/api/projects/{id}/alert-firings/{firingId}/', ['get']],
      ['/api/projects/{id}/monitors/', ['get', 'post']],
      ['/api/projects/{id}/monitors/{monitorId}/', ['get', 'patch', 'delete']],
      ['/api/projects/{id}/monitors/{monitorId}/check-ins/', ['get']],
      ['/api/monitors/{slug}/check-ins/', ['post']],
    ] as const) {
      for (const m of methods) expect({ path, m, documented: Boolean(doc.paths[path]?.[m]) }).toEqual({ path, m, documented: true });
    }
  });
});

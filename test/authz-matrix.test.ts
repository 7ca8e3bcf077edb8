/**
 * The authorization matrix: every endpoint × every kind of caller, as a table.
 * Adding an endpoint means adding a row. Statuses follow seed 1's roles: a project the
 * caller cannot see is 404; one they see but may not change is 403.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createApiKey } from '../src/domain/projects/projects.ts';
import { startWeb } from './helpers/stack.ts';
import { createProjectWithKey, createUser, pantiesEvent, uniqueEmail, type TestUser } from './helpers/factories.ts';

const CALLERS = ['anonymous', 'stranger', 'viewer', 'member', 'admin', 'owner', 'staff', 'machine', 'apiKey'] as const;
type Caller = (typeof CALLERS)[number];

interface Ctx {
  ds: DataSource;
  users: Record<'stranger' | 'viewer' | 'member' | 'admin' | 'owner' | 'staff', TestUser>;
  projectId: number;
  keyId: number;
  apiKey: string;
  machine: string;
  /** A fresh project with the same owner and members, for destructive calls. */
  freshProject(): Promise<{ projectId: number; memberIds: Record<'viewer' | 'member' | 'admin', number> }>;
}
interface Call {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  body?: unknown;
}
type Expect = Partial<Record<Caller | 'users' | 'roles', number>>;

/** `users` = every signed-in user; `roles` = viewer, member, admin, owner. Specific callers override groups. */
function expand(e: Expect): Record<Caller, number> {
  const out = {} as Record<Caller, number>;
  for (const c of CALLERS) {
    const group = c === 'anonymous' || c === 'machine' || c === 'apiKey' ? undefined : ['viewer', 'member', 'admin', 'owner'].includes(c) ? (e[c] ?? e.roles ?? e.users) : (e[c] ?? e.users);
    out[c] = e[c] ?? group ?? (c === 'anonymous' ? 401 : c === 'machine' ? 403 : 401);
  }
  return out;
}

const inProject = (e: Expect): Expect => ({ stranger: 404, ...e });

/** A fresh row in the matrix project, for the detail routes. */
const eventIn = async (c: Ctx, kind: 'error' | 'log'): Promise<string> =>
  (
    await c.ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin) VALUES ($1, $2, $3, now(), 'error', 'matrix', 'test') RETURNING id`,
      [c.projectId, `matrix-${randomUUID()}`, kind],
    )
  )[0].id;
const llmLogIn = async (c: Ctx): Promise<string> =>
  (await c.ds.query(`INSERT INTO llm_logs (project_id, event_id, "timestamp", query) VALUES ($1, $2, now(), 'q') RETURNING id`, [c.projectId, `matrix-${randomUUID()}`]))[0].id;
/** Rows the alert calls act on, made fresh (directly in the database) for each call. */
async function alertRule(c: Ctx): Promise<number> {
  const [{ id }] = await c.ds.query(`INSERT INTO alert_rules (project_id, name, trigger) VALUES ($1, 'matrix', 'issue.new') RETURNING id`, [c.projectId]);
  return id;
}
async function alertChannel(c: Ctx): Promise<number> {
  const [{ id }] = await c.ds.query(`INSERT INTO alert_channels (project_id, name, type, config, target_hint) VALUES ($1, 'matrix', 'email', '{"addresses":["ops@example.com"]}', 'ops@example.com') RETURNING id`, [c.projectId]);
  return id;
}
async function monitor(c: Ctx): Promise<number> {
  const [{ id }] = await c.ds.query(`INSERT INTO monitors (project_id, slug, name, schedule_type, schedule) VALUES ($1, $2, 'matrix', 'crontab', '0 * * * *') RETURNING id`, [c.projectId, `m-${Math.random().toString(36).slice(2, 10)}`]);
  return id;
}

const ROWS: Array<[string, (ctx: Ctx) => Promise<Call> | Call, Expect]> = [
  ['GET /api/auth/user/', () => ({ method: 'get', path: '/api/auth/user/' }), { users: 200 }],
  ['GET /api/user/profile/', () => ({ method: 'get', path: '/api/user/profile/' }), { users: 200 }],
  ['PATCH /api/user/profile/', () => ({ method: 'patch', path: '/api/user/profile/', body: { first_name: 'X' } }), { users: 200 }],
  ['PUT /api/user/profile/', () => ({ method: 'put', path: '/api/user/profile/', body: { first_name: 'Y' } }), { users: 200 }],
  ['GET /api/user/stats/', () => ({ method: 'get', path: '/api/user/stats/' }), { users: 200 }],
  ['GET /api/projects/', () => ({ method: 'get', path: '/api/projects/' }), { users: 200 }],
  ['POST /api/projects/', () => ({ method: 'post', path: '/api/projects/', body: { name: 'New' } }), { users: 201 }],
  ['GET /api/projects/{id}/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/` }), inProject({ roles: 200, staff: 200 })],
  [
    'PATCH /api/projects/{id}/',
    (c) => ({ method: 'patch', path: `/api/projects/${c.projectId}/`, body: { description: 'edited' } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'PATCH /api/projects/{id}/ (transfer)',
    async (c) => {
      const p = await c.freshProject();
      return { method: 'patch', path: `/api/projects/${p.projectId}/`, body: { owner: c.users.admin.user.id } };
    },
    inProject({ viewer: 403, member: 403, admin: 403, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/projects/{id}/',
    async (c) => ({ method: 'delete', path: `/api/projects/${(await c.freshProject()).projectId}/` }),
    inProject({ viewer: 403, member: 403, admin: 403, owner: 204, staff: 204 }),
  ],
  ['GET /api/projects/{id}/members/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/members/` }), inProject({ roles: 200, staff: 200 })],
  [
    'POST /api/projects/{id}/members/',
    async (c) => {
      const p = await c.freshProject();
      const invitee = await createUser(c.ds);
      return { method: 'post', path: `/api/projects/${p.projectId}/members/`, body: { email: invitee.user.email, role: 'viewer' } };
    },
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    'PATCH /api/projects/{id}/members/{mid}/',
    async (c) => {
      const p = await c.freshProject();
      return { method: 'patch', path: `/api/projects/${p.projectId}/members/${p.memberIds.member}/`, body: { role: 'viewer' } };
    },
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/projects/{id}/members/{mid}/ (someone else)',
    async (c) => {
      const p = await c.freshProject();
      return { method: 'delete', path: `/api/projects/${p.projectId}/members/${p.memberIds.viewer}/` };
    },
    // the viewer removing their own membership is leaving, which anyone may do
    inProject({ viewer: 204, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  ['GET /api/projects/{id}/invitations/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/invitations/` }), inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 })],
  [
    'DELETE /api/projects/{id}/invitations/{iid}/',
    async (c) => {
      const [{ id }] = await c.ds.query(
        `INSERT INTO project_invitations (project_id, email, role, expires_at) VALUES ($1, $2, 'viewer', now() + interval '1 day') RETURNING id`,
        [c.projectId, uniqueEmail('invited')],
      );
      return { method: 'delete', path: `/api/projects/${c.projectId}/invitations/${id}/` };
    },
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  ['GET /api/invitations/', () => ({ method: 'get', path: '/api/invitations/' }), { users: 200 }],
  [
    "POST /api/invitations/{iid}/accept/ (someone else's)",
    async (c) => {
      const [{ id }] = await c.ds.query(
        `INSERT INTO project_invitations (project_id, email, role, expires_at) VALUES ($1, $2, 'admin', now() + interval '1 day') RETURNING id`,
        [c.projectId, uniqueEmail('invited')],
      );
      return { method: 'post', path: `/api/invitations/${id}/accept/` };
    },
    { users: 404 },
  ],
  ['GET /api/projects/{id}/events/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/events/` }), inProject({ roles: 200, staff: 200 })],
  [
    'GET /api/projects/{id}/events/{event_pk}/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/events/${await eventIn(c, 'error')}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  ['GET /api/apikeys/', () => ({ method: 'get', path: '/api/apikeys/' }), { users: 200 }],
  [
    'POST /api/apikeys/',
    (c) => ({ method: 'post', path: '/api/apikeys/', body: { project: c.projectId, name: 'ci' } }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  ['GET /api/apikeys/{id}/', (c) => ({ method: 'get', path: `/api/apikeys/${c.keyId}/` }), inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 })],
  [
    'PATCH /api/apikeys/{id}/',
    (c) => ({ method: 'patch', path: `/api/apikeys/${c.keyId}/`, body: { name: 'renamed' } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'PUT /api/apikeys/{id}/',
    (c) => ({ method: 'put', path: `/api/apikeys/${c.keyId}/`, body: { name: 'renamed again' } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/apikeys/{id}/',
    async (c) => {
      const { key } = await createApiKey(c.ds.manager, c.projectId, { name: 'doomed', scopes: ['ingest'], createdById: null });
      return { method: 'delete', path: `/api/apikeys/${key.id}/` };
    },
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  ['GET /api/users/', () => ({ method: 'get', path: '/api/users/' }), { users: 403, staff: 200 }],
  ['POST /api/users/', () => ({ method: 'post', path: '/api/users/', body: { email: uniqueEmail(), password: 'Pass123!xyz' } }), { users: 403, staff: 201 }],
  ['GET /api/users/{id}/', (c) => ({ method: 'get', path: `/api/users/${c.users.viewer.user.id}/` }), { users: 403, staff: 200 }],
  ['PATCH /api/users/{id}/', (c) => ({ method: 'patch', path: `/api/users/${c.users.viewer.user.id}/`, body: { last_name: 'V' } }), { users: 403, staff: 200 }],
  [
    'PUT /api/users/{id}/',
    async (c) => ({ method: 'put', path: `/api/users/${(await createUser(c.ds)).user.id}/`, body: { email: uniqueEmail(), is_active: true, is_staff: false } }),
    { users: 403, staff: 200 },
  ],
  ['DELETE /api/users/{id}/', async (c) => ({ method: 'delete', path: `/api/users/${(await createUser(c.ds)).user.id}/` }), { users: 403, staff: 204 }],
  // Data lists: every signed-in user gets their own projects' data (possibly none).
  ['GET /api/logs/', () => ({ method: 'get', path: '/api/logs/' }), { users: 200 }],
  ['GET /api/logs/?project={id}', (c) => ({ method: 'get', path: `/api/logs/?project=${c.projectId}` }), inProject({ roles: 200, staff: 200 })],
  ['POST /api/logs/ (into a project)', (c) => ({ method: 'post', path: '/api/logs/', body: { message: 'm', severity: 'INFO', source: 's', project: c.projectId } }), inProject({ viewer: 403, member: 202, admin: 202, owner: 202, staff: 202 })],
  ['GET /api/event-logs/', () => ({ method: 'get', path: '/api/event-logs/' }), { users: 200 }],
  ['GET /api/llm-logs/', () => ({ method: 'get', path: '/api/llm-logs/' }), { users: 200 }],
  ['GET /api/event-logs/{id}/', async (c) => ({ method: 'get', path: `/api/event-logs/${await eventIn(c, 'log')}/` }), inProject({ roles: 200, staff: 200 })],
  ['GET /api/llm-logs/{id}/', async (c) => ({ method: 'get', path: `/api/llm-logs/${await llmLogIn(c)}/` }), inProject({ roles: 200, staff: 200 })],
  ['GET /api/user-filter-preferences/', () => ({ method: 'get', path: '/api/user-filter-preferences/' }), { users: 200 }],
  ['GET /api/issues/', () => ({ method: 'get', path: '/api/issues/' }), { users: 200 }],
  ['GET /api/issues/?project={id}', (c) => ({ method: 'get', path: `/api/issues/?project=${c.projectId}` }), inProject({ roles: 200, staff: 200 })],
  ['GET /api/dumps/', () => ({ method: 'get', path: '/api/dumps/' }), { users: 200 }],
  ['GET /api/dumps/?project={id}', (c) => ({ method: 'get', path: `/api/dumps/?project=${c.projectId}` }), inProject({ roles: 200, staff: 200 })],
  // Alerts (issue 13): everyone in the project reads rules, channels, firings and monitors; admins and the owner change them.
  ['GET /api/projects/{id}/alert-rules/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-rules/` }), inProject({ roles: 200, staff: 200 })],
  [
    'POST /api/projects/{id}/alert-rules/',
    (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/alert-rules/`, body: { name: 'matrix', trigger: 'issue.new' } }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  ['GET /api/projects/{id}/alert-rules/{rid}/', async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-rules/${await alertRule(c)}/` }), inProject({ roles: 200, staff: 200 })],
  [
    'PATCH /api/projects/{id}/alert-rules/{rid}/',
    async (c) => ({ method: 'patch', path: `/api/projects/${c.projectId}/alert-rules/${await alertRule(c)}/`, body: { enabled: false } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/projects/{id}/alert-rules/{rid}/',
    async (c) => ({ method: 'delete', path: `/api/projects/${c.projectId}/alert-rules/${await alertRule(c)}/` }),
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  ['GET /api/projects/{id}/alert-channels/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-channels/` }), inProject({ roles: 200, staff: 200 })],
  [
    'POST /api/projects/{id}/alert-channels/',
    (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/alert-channels/`, body: { name: 'matrix', type: 'webhook', url: 'https://93.184.216.34/hook' } }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  ['GET /api/projects/{id}/alert-channels/{cid}/', async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/` }), inProject({ roles: 200, staff: 200 })],
  [
    'PATCH /api/projects/{id}/alert-channels/{cid}/',
    async (c) => ({ method: 'patch', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/`, body: { name: 'renamed' } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'POST /api/projects/{id}/alert-channels/{cid}/test/',
    async (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/test/` }),
    inProject({ viewer: 403, member: 403, admin: 202, owner: 202, staff: 202 }),
  ],
  ['GET /api/projects/{id}/alert-channels/{cid}/deliveries/', async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/deliveries/` }), inProject({ roles: 200, staff: 200 })],
  [
    'DELETE /api/projects/{id}/alert-channels/{cid}/',
    async (c) => ({ method: 'delete', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/` }),
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  ['GET /api/projects/{id}/alert-firings/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-firings/` }), inProject({ roles: 200, staff: 200 })],
  ['GET /api/projects/{id}/monitors/', (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/monitors/` }), inProject({ roles: 200, staff: 200 })],
  [
    'POST /api/projects/{id}/monitors/',
    (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/monitors/`, body: { slug: `m-${Math.random().toString(36).slice(2, 10)}`, schedule: { type: 'crontab', value: '0 * * * *' } } }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  ['GET /api/projects/{id}/monitors/{mid}/check-ins/', async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/monitors/${await monitor(c)}/check-ins/` }), inProject({ roles: 200, staff: 200 })],
  [
    'PATCH /api/projects/{id}/monitors/{mid}/',
    async (c) => ({ method: 'patch', path: `/api/projects/${c.projectId}/monitors/${await monitor(c)}/`, body: { enabled: false } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  // The cron scripts' ping takes a project API key (ingest scope), nothing else.
  ['POST /api/monitors/{slug}/check-ins/', () => ({ method: 'post', path: '/api/monitors/matrix-job/check-ins/', body: { status: 'ok', monitor_config: { schedule: { type: 'interval', value: 1, unit: 'hour' } } } }), { users: 401, machine: 401, apiKey: 202 }],
  // Ingest takes project API keys only: user and machine tokens are not keys.
  ['POST /api/events/', () => ({ method: 'post', path: '/api/events/', body: pantiesEvent() }), { users: 401, machine: 401, apiKey: 202 }],
];

let stack: Awaited<ReturnType<typeof startWeb>>;
let ctx: Ctx;

beforeAll(async () => {
  stack = await startWeb();
  const ds = stack.web.ds;
  const [stranger, viewer, member, admin, owner, staff] = await Promise.all([
    createUser(ds),
    createUser(ds),
    createUser(ds),
    createUser(ds),
    createUser(ds),
    createUser(ds, { isStaff: true }),
  ]);
  const users = { stranger, viewer, member, admin, owner, staff };
  const freshProject = async () => {
    const { project } = await createProjectWithKey(ds, owner.user, 'Matrix');
    const memberIds = {} as Record<'viewer' | 'member' | 'admin', number>;
    for (const role of ['viewer', 'member', 'admin'] as const) {
      const [{ id }] = await ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3) RETURNING id`, [
        project.id,
        users[role].user.id,
        role,
      ]);
      memberIds[role] = id;
    }
    return { projectId: project.id, memberIds };
  };
  const { projectId } = await freshProject();
  const { key, secret } = await createApiKey(ds.manager, projectId, { name: 'matrix', scopes: ['ingest', 'dumps:upload'], createdById: owner.user.id });
  const machine = (await stack.http.post('/api/auth/client-token/').send({ client_secret: secret })).body.access as string;
  ctx = { ds, users, projectId, keyId: key.id, apiKey: secret, machine, freshProject };
});
afterAll(async () => {
  await stack.web.close();
});

function tokenOf(caller: Caller): string | null {
  if (caller === 'anonymous') return null;
  if (caller === 'machine') return ctx.machine;
  if (caller === 'apiKey') return ctx.apiKey;
  return ctx.users[caller].access;
}

describe.each(ROWS)('%s', (_name, build, expectation) => {
  const expected = expand(expectation);
  it.each(CALLERS.map((c) => [c, expected[c]] as const))('%s → %i', async (caller, status) => {
    const call = await build(ctx);
    let req = stack.http[call.method](call.path);
    const token = tokenOf(caller);
    if (token) req = req.set('Authorization', `Bearer ${token}`);
    const res = call.body === undefined ? await req : await req.send(call.body as object);
    expect({ status: res.status, body: res.status === status ? 'ok' : res.body }).toEqual({ status, body: 'ok' });
    if (status >= 400) expect(Object.keys(res.body).sort()).toEqual(['code', 'details', 'error']);
  });
});

/**
 * The authorization matrix: every endpoint × every kind of caller, as a table — the HTTP
 * edge (test/authz-edges.test.ts runs the same principals through the WebSocket live
 * tail, the admin's API and the Expect: 100-continue check). Adding an endpoint means
 * adding a row: a test below fails for a route the router serves that has none.
 * Statuses follow seed 1's roles: a project the caller cannot see is 404; one they see
 * but may not change is 403.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createApiKey } from '../src/domain/projects/projects.ts';
import supertest from 'supertest';
import { startWeb } from './helpers/stack.ts';
import { allRoutes, normalizePath } from './helpers/routes.ts';
import { createProjectWithKey, createUser, pantiesEvent, uniqueEmail, type TestUser } from './helpers/factories.ts';

const CALLERS = [
  'anonymous',
  'stranger',
  'viewer',
  'member',
  'admin',
  'owner',
  'staff',
  'machine',
  'apiKey',
  'revokedKey',
  'deactivated',
  'authToken',
] as const;
type Caller = (typeof CALLERS)[number];

interface Ctx {
  ds: DataSource;
  users: Record<'stranger' | 'viewer' | 'member' | 'admin' | 'owner' | 'staff', TestUser>;
  projectId: number;
  keyId: number;
  apiKey: string;
  machine: string;
  /** A key of the matrix project, revoked. */
  revokedKey: string;
  /** A member of the matrix project who signed in, then was deactivated: their token is refused. */
  deactivated: string;
  /** The owner's sentry-cli auth token for the matrix project (flt_…). */
  authToken: string;
  http: ReturnType<typeof supertest>;
  /** A fresh project with the same owner and members, for destructive calls. */
  freshProject(): Promise<{ projectId: number; memberIds: Record<'viewer' | 'member' | 'admin', number> }>;
}
interface Call {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  body?: unknown;
  /** A raw body of this content type instead of JSON. */
  raw?: { type: string; data: string | Buffer };
  /** A multipart file part named `file`. */
  file?: Buffer;
  /** A multipart file name other than matrix.dmp. */
  filename?: string;
  /** OTLP answers errors as its own Status message ({code, message, details}). */
  otlp?: boolean;
  /** Langfuse's API answers errors as {error: <ErrorName>, message} (with our code and details beside). */
  langfuse?: boolean;
  /** How the caller's credential goes: `Authorization: Bearer` (default), as a Sentry SDK sends it, or as Langfuse's SDKs do (Basic public:secret). */
  auth?: 'bearer' | 'sentry' | 'basic';
}
type Expect = Partial<Record<Caller | 'users' | 'roles', number>>;

/** `users` = every signed-in user; `roles` = viewer, member, admin, owner. Specific callers override groups. */
function expand(e: Expect): Record<Caller, number> {
  const out = {} as Record<Caller, number>;
  for (const c of CALLERS) {
    const group = !['stranger', 'viewer', 'member', 'admin', 'owner', 'staff'].includes(c)
      ? undefined
      : ['viewer', 'member', 'admin', 'owner'].includes(c)
        ? (e[c] ?? e.roles ?? e.users)
        : (e[c] ?? e.users);
    // A machine token is a real credential, only not for this (403); anything else not accepted is 401.
    out[c] = e[c] ?? group ?? (c === 'machine' ? 403 : 401);
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
  (
    await c.ds.query(`INSERT INTO llm_logs (project_id, event_id, "timestamp", query) VALUES ($1, $2, now(), 'q') RETURNING id`, [
      c.projectId,
      `matrix-${randomUUID()}`,
    ])
  )[0].id;
/** Rows the alert calls act on, made fresh (directly in the database) for each call. */
async function alertRule(c: Ctx): Promise<number> {
  const [{ id }] = await c.ds.query(`INSERT INTO alert_rules (project_id, name, trigger) VALUES ($1, 'matrix', 'issue.new') RETURNING id`, [
    c.projectId,
  ]);
  return id;
}
async function alertChannel(c: Ctx): Promise<number> {
  const [{ id }] = await c.ds.query(
    `INSERT INTO alert_channels (project_id, name, type, config, target_hint) VALUES ($1, 'matrix', 'email', '{"addresses":["ops@example.com"]}', 'ops@example.com') RETURNING id`,
    [c.projectId],
  );
  return id;
}
async function monitor(c: Ctx): Promise<number> {
  const [{ id }] = await c.ds.query(
    `INSERT INTO monitors (project_id, slug, name, schedule_type, schedule) VALUES ($1, $2, 'matrix', 'crontab', '0 * * * *') RETURNING id`,
    [c.projectId, `m-${Math.random().toString(36).slice(2, 10)}`],
  );
  return id;
}

const hex = (n: number) => randomUUID().replace(/-/g, '').repeat(2).slice(0, n);
async function issueIn(c: Ctx): Promise<{ issueId: number; eventId: string }> {
  const [{ id }] = await c.ds.query(
    `INSERT INTO issues (project_id, fingerprint, title, level, first_seen, last_seen, times_seen) VALUES ($1, $2, 'matrix', 'error', now(), now(), 1) RETURNING id`,
    [c.projectId, hex(64)],
  );
  const eventId = `matrix-${randomUUID()}`;
  await c.ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin, issue_id) VALUES ($1, $2, 'error', now(), 'error', 'matrix', 'test', $3)`,
    [c.projectId, eventId, id],
  );
  return { issueId: Number(id), eventId };
}
async function traceIn(c: Ctx): Promise<string> {
  const traceId = hex(32);
  await c.ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin, trace_id) VALUES ($1, $2, 'log', now(), 'info', 'traced', 'test', $3)`,
    [c.projectId, `matrix-${randomUUID()}`, traceId],
  );
  return traceId;
}
/** A dump of the matrix project, uploaded with its key. */
async function dumpIn(c: Ctx): Promise<string> {
  const res = await c.http
    .post(`/api/dumps/`)
    .set('Authorization', `Bearer ${c.apiKey}`)
    .field('label', `matrix-${randomUUID()}`)
    .attach('file', Buffer.from('MDMP matrix'), 'matrix.dmp');
  if (res.status !== 201) throw new Error(`dump upload: ${res.status} ${res.text}`);
  return res.body.id;
}
async function preferenceOf(c: Ctx, who: 'owner'): Promise<number> {
  const res = await c.http
    .post('/api/user-filter-preferences/')
    .set('Authorization', `Bearer ${c.users[who].access}`)
    .send({ name: `p-${randomUUID()}`, filters: {} });
  if (res.status !== 201) throw new Error(`preference: ${res.status} ${res.text}`);
  return res.body.id;
}
/** A scrubbing rule in the project, made by its owner. */
async function scrubbingRule(c: Ctx): Promise<number> {
  const res = await c.http
    .post(`/api/projects/${c.projectId}/scrubbing-rules/`)
    .set('Authorization', `Bearer ${c.users.owner.access}`)
    .send({ kind: 'email', action: 'mask' });
  if (res.status !== 201) throw new Error(`scrubbing rule: ${res.status} ${res.text}`);
  return res.body.id;
}
async function projectPrice(c: Ctx): Promise<number> {
  const res = await c.http
    .post('/api/llm-prices/')
    .set('Authorization', `Bearer ${c.users.owner.access}`)
    .send({ project: c.projectId, model: `m-${randomUUID()}`, input_per_million: 1, output_per_million: 2 });
  if (res.status !== 201) throw new Error(`price: ${res.status} ${res.text}`);
  return res.body.id;
}
/** An event with an attachment (kept at the edge, before the 200), through the Sentry envelope endpoint. */
async function attachmentIn(c: Ctx): Promise<{ eventId: string; attachmentId: string }> {
  const eventId = hex(32);
  const body = [
    JSON.stringify({ event_id: eventId }),
    JSON.stringify({ type: 'event' }),
    JSON.stringify({ event_id: eventId, message: 'with attachment', level: 'error' }),
    JSON.stringify({ type: 'attachment', filename: 'notes.txt', length: 5 }),
    'hello',
  ].join('\n');
  const res = await c.http
    .post(`/api/${c.projectId}/envelope/`)
    .set('X-Sentry-Auth', `Sentry sentry_key=${c.apiKey}`)
    .set('Content-Type', 'application/x-sentry-envelope')
    .send(body);
  if (res.status !== 200) throw new Error(`envelope: ${res.status} ${res.text}`);
  const [{ id }] = await c.ds.query(`SELECT id FROM event_attachments WHERE project_id = $1 AND event_id = $2`, [c.projectId, eventId]);
  return { eventId, attachmentId: String(id) };
}
const envelope = () => {
  const id = hex(32);
  return [
    JSON.stringify({ event_id: id }),
    JSON.stringify({ type: 'event' }),
    JSON.stringify({ event_id: id, message: 'matrix', level: 'error' }),
  ].join('\n');
};
/** Every signed-in user may use it for themselves; nobody else. */
const selfService = (status: number): Expect => ({ users: status });
const releaseBody = () => ({ version: `matrix@${randomUUID()}` });

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
  [
    'GET /api/projects/{id}/members/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/members/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
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
  [
    'GET /api/projects/{id}/invitations/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/invitations/` }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
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
  [
    'GET /api/projects/{id}/events/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/events/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
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
  [
    'GET /api/apikeys/{id}/',
    (c) => ({ method: 'get', path: `/api/apikeys/${c.keyId}/` }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
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
  [
    'POST /api/users/',
    () => ({ method: 'post', path: '/api/users/', body: { email: uniqueEmail(), password: 'Pass123!xyz' } }),
    { users: 403, staff: 201 },
  ],
  ['GET /api/users/{id}/', (c) => ({ method: 'get', path: `/api/users/${c.users.viewer.user.id}/` }), { users: 403, staff: 200 }],
  [
    'PATCH /api/users/{id}/',
    (c) => ({ method: 'patch', path: `/api/users/${c.users.viewer.user.id}/`, body: { last_name: 'V' } }),
    { users: 403, staff: 200 },
  ],
  [
    'PUT /api/users/{id}/',
    async (c) => ({
      method: 'put',
      path: `/api/users/${(await createUser(c.ds)).user.id}/`,
      body: { email: uniqueEmail(), is_active: true, is_staff: false },
    }),
    { users: 403, staff: 200 },
  ],
  [
    'DELETE /api/users/{id}/',
    async (c) => ({ method: 'delete', path: `/api/users/${(await createUser(c.ds)).user.id}/` }),
    { users: 403, staff: 204 },
  ],
  // Data lists: every signed-in user gets their own projects' data (possibly none).
  ['GET /api/logs/', () => ({ method: 'get', path: '/api/logs/' }), { users: 200 }],
  [
    'GET /api/logs/?project={id}',
    (c) => ({ method: 'get', path: `/api/logs/?project=${c.projectId}` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'POST /api/logs/ (into a project)',
    (c) => ({ method: 'post', path: '/api/logs/', body: { message: 'm', severity: 'INFO', source: 's', project: c.projectId } }),
    inProject({ viewer: 403, member: 202, admin: 202, owner: 202, staff: 202 }),
  ],
  ['GET /api/event-logs/', () => ({ method: 'get', path: '/api/event-logs/' }), { users: 200 }],
  ['GET /api/llm-logs/', () => ({ method: 'get', path: '/api/llm-logs/' }), { users: 200 }],
  [
    'GET /api/event-logs/{id}/',
    async (c) => ({ method: 'get', path: `/api/event-logs/${await eventIn(c, 'log')}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/llm-logs/{id}/',
    async (c) => ({ method: 'get', path: `/api/llm-logs/${await llmLogIn(c)}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  ['GET /api/user-filter-preferences/', () => ({ method: 'get', path: '/api/user-filter-preferences/' }), { users: 200 }],
  ['GET /api/issues/', () => ({ method: 'get', path: '/api/issues/' }), { users: 200 }],
  [
    'GET /api/issues/?project={id}',
    (c) => ({ method: 'get', path: `/api/issues/?project=${c.projectId}` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  ['GET /api/dumps/', () => ({ method: 'get', path: '/api/dumps/' }), { users: 200 }],
  [
    'GET /api/dumps/?project={id}',
    (c) => ({ method: 'get', path: `/api/dumps/?project=${c.projectId}` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  // Alerts (issue 13): everyone in the project reads rules, channels, firings and monitors; admins and the owner change them.
  [
    'GET /api/projects/{id}/alert-rules/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-rules/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'POST /api/projects/{id}/alert-rules/',
    (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/alert-rules/`, body: { name: 'matrix', trigger: 'issue.new' } }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    'GET /api/projects/{id}/alert-rules/{rid}/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-rules/${await alertRule(c)}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
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
  [
    'GET /api/projects/{id}/alert-channels/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-channels/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'POST /api/projects/{id}/alert-channels/',
    (c) => ({
      method: 'post',
      path: `/api/projects/${c.projectId}/alert-channels/`,
      body: { name: 'matrix', type: 'webhook', url: 'https://93.184.216.34/hook' },
    }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    'GET /api/projects/{id}/alert-channels/{cid}/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'PATCH /api/projects/{id}/alert-channels/{cid}/',
    async (c) => ({
      method: 'patch',
      path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/`,
      body: { name: 'renamed' },
    }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'POST /api/projects/{id}/alert-channels/{cid}/test/',
    async (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/test/` }),
    inProject({ viewer: 403, member: 403, admin: 202, owner: 202, staff: 202 }),
  ],
  [
    'GET /api/projects/{id}/alert-channels/{cid}/deliveries/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/deliveries/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'DELETE /api/projects/{id}/alert-channels/{cid}/',
    async (c) => ({ method: 'delete', path: `/api/projects/${c.projectId}/alert-channels/${await alertChannel(c)}/` }),
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  [
    'GET /api/projects/{id}/alert-firings/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/alert-firings/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/monitors/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/monitors/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'POST /api/projects/{id}/monitors/',
    (c) => ({
      method: 'post',
      path: `/api/projects/${c.projectId}/monitors/`,
      body: { slug: `m-${Math.random().toString(36).slice(2, 10)}`, schedule: { type: 'crontab', value: '0 * * * *' } },
    }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    'GET /api/projects/{id}/monitors/{mid}/check-ins/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/monitors/${await monitor(c)}/check-ins/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'PATCH /api/projects/{id}/monitors/{mid}/',
    async (c) => ({ method: 'patch', path: `/api/projects/${c.projectId}/monitors/${await monitor(c)}/`, body: { enabled: false } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  // The cron scripts' ping takes a project API key (ingest scope), nothing else.
  [
    'POST /api/monitors/{slug}/check-ins/',
    () => ({
      method: 'post',
      path: '/api/monitors/matrix-job/check-ins/',
      body: { status: 'ok', monitor_config: { schedule: { type: 'interval', value: 1, unit: 'hour' } } },
    }),
    { users: 401, machine: 401, apiKey: 202 },
  ],
  [
    'GET /api/projects/{id}/alert-firings/{fid}/',
    async (c) => {
      const [{ id }] = await c.ds.query(
        `INSERT INTO alert_firings (project_id, trigger, trigger_key, kind, status) VALUES ($1, 'test', $2, 'test', 'no_channels') RETURNING id`,
        [c.projectId, randomUUID()],
      );
      return { method: 'get', path: `/api/projects/${c.projectId}/alert-firings/${id}/` };
    },
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/monitors/{mid}/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/monitors/${await monitor(c)}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'DELETE /api/projects/{id}/monitors/{mid}/',
    async (c) => ({ method: 'delete', path: `/api/projects/${c.projectId}/monitors/${await monitor(c)}/` }),
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  [
    "POST /api/invitations/{iid}/decline/ (someone else's)",
    async (c) => {
      const [{ id }] = await c.ds.query(
        `INSERT INTO project_invitations (project_id, email, role, expires_at) VALUES ($1, $2, 'admin', now() + interval '1 day') RETURNING id`,
        [c.projectId, uniqueEmail('invited')],
      );
      return { method: 'post', path: `/api/invitations/${id}/decline/` };
    },
    { users: 404 },
  ],
  // Crash dumps: members and up upload and change; everyone in the project reads.
  [
    'POST /api/dumps/',
    (c) => ({ method: 'post', path: `/api/dumps/?project=${c.projectId}`, file: Buffer.from('MDMP matrix') }),
    inProject({ viewer: 403, member: 201, admin: 201, owner: 201, staff: 201, machine: 201, apiKey: 201 }),
  ],
  ['GET /api/dumps/{id}/', async (c) => ({ method: 'get', path: `/api/dumps/${await dumpIn(c)}/` }), inProject({ roles: 200, staff: 200 })],
  [
    'GET /api/dumps/{id}/download/',
    async (c) => ({ method: 'get', path: `/api/dumps/${await dumpIn(c)}/download/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/dumps/by-label/{label}/',
    async (c) => {
      const id = await dumpIn(c);
      const [{ label }] = await c.ds.query(`SELECT label FROM crash_dumps WHERE id = $1`, [id]);
      return { method: 'get', path: `/api/dumps/by-label/${label}/` };
    },
    { users: 200 },
  ], // a list: nothing of the project for those who cannot see it
  [
    'PATCH /api/dumps/{id}/',
    async (c) => ({ method: 'patch', path: `/api/dumps/${await dumpIn(c)}/`, body: { label: 'relabelled' } }),
    inProject({ viewer: 403, member: 200, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'PUT /api/dumps/{id}/',
    async (c) => ({ method: 'put', path: `/api/dumps/${await dumpIn(c)}/`, file: Buffer.from('MDMP replaced') }),
    inProject({ viewer: 403, member: 200, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/dumps/{id}/',
    async (c) => ({ method: 'delete', path: `/api/dumps/${await dumpIn(c)}/` }),
    inProject({ viewer: 403, member: 204, admin: 204, owner: 204, staff: 204 }),
  ],
  // Logs, one by one (seed 2 and seed 5's /v1/api/logs/ share the router).
  [
    'GET /api/logs/{id}/',
    async (c) => ({ method: 'get', path: `/api/logs/${await eventIn(c, 'log')}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'PUT /api/logs/{id}/',
    async (c) => ({ method: 'put', path: `/api/logs/${await eventIn(c, 'log')}/`, body: { message: 'rewritten', severity: 'WARNING' } }),
    inProject({ viewer: 403, member: 200, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'PATCH /api/logs/{id}/',
    async (c) => ({ method: 'patch', path: `/api/logs/${await eventIn(c, 'log')}/`, body: { archived: true } }),
    inProject({ viewer: 403, member: 200, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/logs/{id}/',
    async (c) => ({ method: 'delete', path: `/api/logs/${await eventIn(c, 'log')}/` }),
    inProject({ viewer: 403, member: 204, admin: 204, owner: 204, staff: 204 }),
  ],
  // Every log the caller can see (for staff: the instance's, by then large): the date keeps the answer small, not the check.
  ['GET /api/logs/export/', () => ({ method: 'get', path: '/api/logs/export/?date_from=2100-01-01' }), { users: 200 }],
  [
    'GET /api/logs/export/?project={id}',
    (c) => ({ method: 'get', path: `/api/logs/export/?project=${c.projectId}` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  // LLM prices: instance-wide ones are staff's; a project's are its admins' and owner's.
  ['GET /api/llm-prices/', () => ({ method: 'get', path: '/api/llm-prices/' }), { users: 200 }],
  [
    'POST /api/llm-prices/ (instance-wide)',
    () => ({ method: 'post', path: '/api/llm-prices/', body: { model: `m-${randomUUID()}`, input_per_million: 1, output_per_million: 2 } }),
    { users: 403, staff: 201 },
  ],
  [
    'POST /api/llm-prices/ (a project)',
    (c) => ({
      method: 'post',
      path: '/api/llm-prices/',
      body: { project: c.projectId, model: `m-${randomUUID()}`, input_per_million: 1, output_per_million: 2 },
    }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    'PATCH /api/llm-prices/{id}/',
    async (c) => ({ method: 'patch', path: `/api/llm-prices/${await projectPrice(c)}/`, body: { input_per_million: 3 } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/llm-prices/{id}/',
    async (c) => ({ method: 'delete', path: `/api/llm-prices/${await projectPrice(c)}/` }),
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  ['GET /api/llm-logs/stats/', () => ({ method: 'get', path: '/api/llm-logs/stats/' }), { users: 200 }],
  [
    'GET /api/llm-logs/stats/?project={id}',
    (c) => ({ method: 'get', path: `/api/llm-logs/stats/?project=${c.projectId}` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/traces/{trace_id}/',
    async (c) => ({ method: 'get', path: `/api/traces/${await traceIn(c)}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  // Saved filters belong to one user: nobody else finds them.
  [
    'POST /api/user-filter-preferences/',
    () => ({ method: 'post', path: '/api/user-filter-preferences/', body: { name: `p-${randomUUID()}`, filters: {} } }),
    selfService(201),
  ],
  [
    "GET /api/user-filter-preferences/{id}/ (the owner's)",
    async (c) => ({ method: 'get', path: `/api/user-filter-preferences/${await preferenceOf(c, 'owner')}/` }),
    { users: 404, owner: 200 },
  ],
  [
    "PUT /api/user-filter-preferences/{id}/ (the owner's)",
    async (c) => ({
      method: 'put',
      path: `/api/user-filter-preferences/${await preferenceOf(c, 'owner')}/`,
      body: { name: `p-${randomUUID()}`, filters: {} },
    }),
    { users: 404, owner: 200 },
  ],
  [
    "PATCH /api/user-filter-preferences/{id}/ (the owner's)",
    async (c) => ({ method: 'patch', path: `/api/user-filter-preferences/${await preferenceOf(c, 'owner')}/`, body: { is_default: true } }),
    { users: 404, owner: 200 },
  ],
  [
    "DELETE /api/user-filter-preferences/{id}/ (the owner's)",
    async (c) => ({ method: 'delete', path: `/api/user-filter-preferences/${await preferenceOf(c, 'owner')}/` }),
    { users: 404, owner: 204 },
  ],
  // Issues and triage: everyone in the project reads; members and up change.
  [
    'GET /api/issues/{id}/',
    async (c) => ({ method: 'get', path: `/api/issues/${(await issueIn(c)).issueId}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'PATCH /api/issues/{id}/',
    async (c) => ({ method: 'patch', path: `/api/issues/${(await issueIn(c)).issueId}/`, body: { status: 'resolved' } }),
    inProject({ viewer: 403, member: 200, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'GET /api/issues/{id}/events/',
    async (c) => ({ method: 'get', path: `/api/issues/${(await issueIn(c)).issueId}/events/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/issues/{id}/events/{event_id}/',
    async (c) => {
      const { issueId, eventId } = await issueIn(c);
      return { method: 'get', path: `/api/issues/${issueId}/events/${eventId}/` };
    },
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/issues/{id}/summary/',
    async (c) => ({ method: 'get', path: `/api/issues/${(await issueIn(c)).issueId}/summary/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/issues/{id}/tags/',
    async (c) => ({ method: 'get', path: `/api/issues/${(await issueIn(c)).issueId}/tags/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/issues/{id}/stats/',
    async (c) => ({ method: 'get', path: `/api/issues/${(await issueIn(c)).issueId}/stats/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/issues/{id}/activity/',
    async (c) => ({ method: 'get', path: `/api/issues/${(await issueIn(c)).issueId}/activity/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'POST /api/issues/{id}/comments/',
    async (c) => ({ method: 'post', path: `/api/issues/${(await issueIn(c)).issueId}/comments/`, body: { text: 'looking' } }),
    inProject({ viewer: 403, member: 201, admin: 201, owner: 201, staff: 201 }),
  ],
  // Scrubbing rules: read by anyone who sees the project, changed by its admins and owner.
  [
    'GET /api/projects/{id}/scrubbing-rules/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/scrubbing-rules/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'POST /api/projects/{id}/scrubbing-rules/',
    (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/scrubbing-rules/`, body: { kind: 'ip', action: 'hash' } }),
    inProject({ viewer: 403, member: 403, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    'POST /api/projects/{id}/scrubbing-rules/test/',
    (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/scrubbing-rules/test/`, body: { payload: { password: 'x' } } }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/scrubbing-rules/{rule_id}/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/scrubbing-rules/${await scrubbingRule(c)}/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'PATCH /api/projects/{id}/scrubbing-rules/{rule_id}/',
    async (c) => ({
      method: 'patch',
      path: `/api/projects/${c.projectId}/scrubbing-rules/${await scrubbingRule(c)}/`,
      body: { action: 'hash' },
    }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'DELETE /api/projects/{id}/scrubbing-rules/{rule_id}/',
    async (c) => ({ method: 'delete', path: `/api/projects/${c.projectId}/scrubbing-rules/${await scrubbingRule(c)}/` }),
    inProject({ viewer: 403, member: 403, admin: 204, owner: 204, staff: 204 }),
  ],
  [
    'GET /api/projects/{id}/stats/outcomes/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/stats/outcomes/?interval=day` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/inbound-filters/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/inbound-filters/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'PUT /api/projects/{id}/inbound-filters/',
    (c) => ({ method: 'put', path: `/api/projects/${c.projectId}/inbound-filters/`, body: { web_crawlers: false } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/quotas/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/quotas/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'PUT /api/projects/{id}/quotas/',
    // A limit no row of the matrix comes near: the other ingest rows must not be refused by it.
    (c) => ({ method: 'put', path: `/api/projects/${c.projectId}/quotas/`, body: { project: { events_per_minute: 1_000_000 } } }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/releases/',
    (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/releases/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'POST /api/projects/{id}/releases/',
    (c) => ({ method: 'post', path: `/api/projects/${c.projectId}/releases/`, body: releaseBody() }),
    inProject({ viewer: 403, member: 201, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    'GET /api/projects/{id}/releases/{version}/',
    async (c) => {
      const { version } = releaseBody();
      await c.http
        .post(`/api/projects/${c.projectId}/releases/`)
        .set('Authorization', `Bearer ${c.users.owner.access}`)
        .send({ version })
        .expect(201);
      return { method: 'get', path: `/api/projects/${c.projectId}/releases/${encodeURIComponent(version)}/` };
    },
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/events/{event_id}/attachments/',
    async (c) => ({ method: 'get', path: `/api/projects/${c.projectId}/events/${(await attachmentIn(c)).eventId}/attachments/` }),
    inProject({ roles: 200, staff: 200 }),
  ],
  [
    'GET /api/projects/{id}/events/{event_id}/attachments/{aid}/',
    async (c) => {
      const { eventId, attachmentId } = await attachmentIn(c);
      return { method: 'get', path: `/api/projects/${c.projectId}/events/${eventId}/attachments/${attachmentId}/` };
    },
    inProject({ roles: 200, staff: 200 }),
  ],
  // Auth tokens for tools: each user's own; a token for a project needs the member role there.
  // The audit log: every user owns a personal project, so the unfiltered list is theirs (staff: all); one project's needs view_audit.
  ['GET /api/audit-log/', () => ({ method: 'get', path: '/api/audit-log/' }), { users: 200 }],
  [
    'GET /api/audit-log/?project= (the matrix project)',
    (c) => ({ method: 'get', path: `/api/audit-log/?project=${c.projectId}` }),
    inProject({ viewer: 403, member: 403, admin: 200, owner: 200, staff: 200 }),
  ],
  ['GET /api/auth-tokens/', () => ({ method: 'get', path: '/api/auth-tokens/' }), selfService(200)],
  [
    'POST /api/auth-tokens/ (for the project)',
    (c) => ({ method: 'post', path: '/api/auth-tokens/', body: { name: 'ci', projects: [c.projectId] } }),
    inProject({ viewer: 403, member: 201, admin: 201, owner: 201, staff: 201 }),
  ],
  [
    "DELETE /api/auth-tokens/{id}/ (the owner's)",
    async (c) => {
      const res = await c.http
        .post('/api/auth-tokens/')
        .set('Authorization', `Bearer ${c.users.owner.access}`)
        .send({ name: 'doomed', projects: [c.projectId] })
        .expect(201);
      return { method: 'delete', path: `/api/auth-tokens/${res.body.id}/` };
    },
    { users: 404, owner: 204 },
  ],
  // sentry-cli's API takes auth tokens only.
  [
    'GET /api/0/organizations/{org}/chunk-upload/',
    () => ({ method: 'get', path: '/api/0/organizations/faultline/chunk-upload/' }),
    { users: 401, machine: 401, authToken: 200 },
  ],
  [
    'POST /api/0/organizations/{org}/chunk-upload/',
    () => ({
      method: 'post',
      path: '/api/0/organizations/faultline/chunk-upload/',
      file: Buffer.from('chunk'),
      filename: createHash('sha1').update('chunk').digest('hex'),
    }),
    { users: 401, machine: 401, authToken: 200 },
  ],
  [
    'POST /api/0/organizations/{org}/artifactbundle/assemble/',
    (c) => ({
      method: 'post',
      path: '/api/0/organizations/faultline/artifactbundle/assemble/',
      body: { checksum: hex(40), chunks: [hex(40)], projects: [String(c.projectId)] },
    }),
    { users: 401, machine: 401, authToken: 200 },
  ],
  [
    'POST /api/0/organizations/{org}/releases/',
    (c) => ({
      method: 'post',
      path: '/api/0/organizations/faultline/releases/',
      body: { version: `cli@${randomUUID()}`, projects: [String(c.projectId)] },
    }),
    { users: 401, machine: 401, authToken: 201 },
  ],
  [
    'GET /api/0/organizations/{org}/releases/{version}/',
    async (c) => {
      const version = `cli@${randomUUID()}`;
      await c.http
        .post('/api/0/organizations/faultline/releases/')
        .set('Authorization', `Bearer ${c.authToken}`)
        .send({ version, projects: [String(c.projectId)] })
        .expect(201);
      return { method: 'get', path: `/api/0/organizations/faultline/releases/${version}/` };
    },
    { users: 401, machine: 401, authToken: 200 },
  ],
  [
    'PUT /api/0/organizations/{org}/releases/{version}/',
    async (c) => {
      const version = `cli@${randomUUID()}`;
      await c.http
        .post('/api/0/organizations/faultline/releases/')
        .set('Authorization', `Bearer ${c.authToken}`)
        .send({ version, projects: [String(c.projectId)] })
        .expect(201);
      return {
        method: 'put',
        path: `/api/0/organizations/faultline/releases/${version}/`,
        body: { dateReleased: new Date().toISOString() },
      };
    },
    { users: 401, machine: 401, authToken: 200 },
  ],
  // Ingest takes project API keys only: user and machine tokens are not keys.
  ['POST /api/events/', () => ({ method: 'post', path: '/api/events/', body: pantiesEvent() }), { users: 401, machine: 401, apiKey: 202 }],
  [
    'POST /api/event-log/',
    () => ({ method: 'post', path: '/api/event-log/', body: { message: 'seed 3' } }),
    { users: 401, machine: 401, apiKey: 202 },
  ],
  [
    'POST /api/llm-log/',
    () => ({ method: 'post', path: '/api/llm-log/', body: { query: 'q', response: 'r' } }),
    { users: 401, machine: 401, apiKey: 202 },
  ],
  [
    'POST /api/{project_id}/envelope/',
    (c) => ({
      method: 'post',
      path: `/api/${c.projectId}/envelope/`,
      auth: 'sentry',
      raw: { type: 'application/x-sentry-envelope', data: envelope() },
    }),
    { machine: 401, apiKey: 200 },
  ],
  [
    'POST /api/{project_id}/store/',
    (c) => ({ method: 'post', path: `/api/${c.projectId}/store/`, auth: 'sentry', body: { message: 'legacy', level: 'error' } }),
    { machine: 401, apiKey: 200 },
  ],
  [
    'POST /api/{project_id}/security/',
    (c) => ({
      method: 'post',
      path: `/api/${c.projectId}/security/`,
      auth: 'sentry',
      raw: {
        type: 'application/csp-report',
        data: JSON.stringify({
          'csp-report': {
            'document-uri': 'https://shop.example/',
            'effective-directive': 'script-src',
            'blocked-uri': 'https://evil.example/x.js',
          },
        }),
      },
    }),
    { machine: 401, apiKey: 201 },
  ],
  [
    'POST /api/{project_id}/minidump/',
    (c) => ({ method: 'post', path: `/api/${c.projectId}/minidump/`, auth: 'sentry', file: Buffer.from('MDMP\x93\xa7') }),
    { machine: 401, apiKey: 200 },
  ],
  [
    'POST /v1/logs',
    () => ({ method: 'post', path: '/v1/logs', otlp: true, raw: { type: 'application/json', data: '{"resourceLogs":[]}' } }),
    { users: 401, machine: 401, apiKey: 200 },
  ],
  [
    'POST /v1/traces',
    () => ({ method: 'post', path: '/v1/traces', otlp: true, raw: { type: 'application/json', data: '{"resourceSpans":[]}' } }),
    { users: 401, machine: 401, apiKey: 200 },
  ],
  [
    'POST /v1/metrics',
    () => ({ method: 'post', path: '/v1/metrics', otlp: true, raw: { type: 'application/json', data: '{"resourceMetrics":[]}' } }),
    // Metrics are not a signal Faultline takes: the same 404 for everyone, before any credential is looked at (it reveals nothing).
    Object.fromEntries(CALLERS.map((c) => [c, 404])) as Expect,
  ],
  [
    'POST /api/public/ingestion',
    () => ({ method: 'post', path: '/api/public/ingestion', langfuse: true, auth: 'basic', body: { batch: [] } }),
    // Basic auth carries an API key as the secret: a user's or machine's JWT there is no key (401).
    { users: 401, machine: 401, apiKey: 207 },
  ],
  [
    'GET /api/public/{path}',
    () => ({ method: 'get', path: '/api/public/v2/prompts/greeting', langfuse: true, auth: 'basic' }),
    // Langfuse's prompt and read API is not served: the same 501 for everyone (it reveals nothing).
    Object.fromEntries(CALLERS.map((c) => [c, 501])) as Expect,
  ],
  [
    'POST /api/public/{path}',
    () => ({ method: 'post', path: '/api/public/scores', langfuse: true, auth: 'basic', body: {} }),
    Object.fromEntries(CALLERS.map((c) => [c, 501])) as Expect,
  ],
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
  const { key, secret } = await createApiKey(ds.manager, projectId, {
    name: 'matrix',
    scopes: ['ingest', 'dumps:upload'],
    createdById: owner.user.id,
  });
  const machine = (await stack.http.post('/api/auth/client-token/').send({ client_secret: secret })).body.access as string;
  const revoked = await createApiKey(ds.manager, projectId, {
    name: 'revoked',
    scopes: ['ingest', 'dumps:upload'],
    createdById: owner.user.id,
  });
  await stack.http.delete(`/api/apikeys/${revoked.key.id}/`).set('Authorization', `Bearer ${owner.access}`).expect(204);
  const gone = await createUser(ds);
  await ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, 'member')`, [projectId, gone.user.id]);
  await stack.http
    .patch(`/api/users/${gone.user.id}/`)
    .set('Authorization', `Bearer ${staff.access}`)
    .send({ is_active: false })
    .expect(200);
  const token = await stack.http
    .post('/api/auth-tokens/')
    .set('Authorization', `Bearer ${owner.access}`)
    .send({ name: 'matrix', projects: [projectId] })
    .expect(201);
  ctx = {
    ds,
    users,
    projectId,
    keyId: key.id,
    apiKey: secret,
    machine,
    revokedKey: revoked.secret,
    deactivated: gone.access,
    authToken: token.body.token,
    http: stack.http,
    freshProject,
  };
});
afterAll(async () => {
  await stack.web.close();
});

function tokenOf(caller: Caller): string | null {
  switch (caller) {
    case 'anonymous':
      return null;
    case 'machine':
    case 'apiKey':
    case 'revokedKey':
    case 'deactivated':
    case 'authToken':
      return ctx[caller];
    default:
      return ctx.users[caller].access;
  }
}

describe.each(ROWS)('%s', (_name, build, expectation) => {
  const expected = expand(expectation);
  it.each(CALLERS.map((c) => [c, expected[c]] as const))('%s → %i', async (caller, status) => {
    const call = await build(ctx);
    let req = stack.http[call.method](call.path);
    const token = tokenOf(caller);
    if (token)
      req =
        call.auth === 'sentry'
          ? req.set('X-Sentry-Auth', `Sentry sentry_version=7, sentry_key=${token}`)
          : call.auth === 'basic'
            ? req.set('Authorization', `Basic ${Buffer.from(`pk-lf-matrix:${token}`).toString('base64')}`)
            : req.set('Authorization', `Bearer ${token}`);
    const res = call.file
      ? await req.attach(
          call.method === 'post' && call.path.includes('/minidump/') ? 'upload_file_minidump' : 'file',
          call.file,
          call.filename ?? 'matrix.dmp',
        )
      : call.raw
        ? await req.set('Content-Type', call.raw.type).send(call.raw.data)
        : call.body === undefined
          ? await req
          : await req.send(call.body as object);
    expect({ status: res.status, body: res.status === status ? 'ok' : res.body }).toEqual({ status, body: 'ok' });
    if (status >= 400)
      expect(Object.keys(res.body).sort()).toEqual(
        call.otlp ? ['code', 'details', 'message'] : call.langfuse ? ['code', 'details', 'error', 'message'] : ['code', 'details', 'error'],
      );
  });
});

/** Routes nobody needs a credential for: signing in, the docs, health and metrics. */
const PUBLIC = new Set([
  'get /healthz',
  'get /readyz',
  'get /metrics',
  'get /api/public/health',
  'get /api/openapi.json',
  'get /api/docs',
  'get /api/docs/faultline-init.js',
  'post /api/auth/register',
  'post /api/auth/login',
  'post /api/auth/refresh',
  'post /api/auth/logout',
  'post /api/auth/client-token',
]);
/** Mounted twice on the same router (seed 5's paths): one row covers both. */
const alias = (path: string) => path.replace(/^\/auth\//, '/api/auth/').replace(/^\/v1\/api\/logs/, '/api/logs');

it('every route the web process serves has a row (or is public)', () => {
  const rows = new Set(
    ROWS.map(([name]) => {
      const [method, path] = name.split(' ');
      return `${method.toLowerCase()} ${normalizePath(path.split('?')[0])}`;
    }),
  );
  const missing = allRoutes(stack.web)
    .map((r) => `${r.method} ${alias(r.path)}`)
    .filter((k) => !PUBLIC.has(k) && !rows.has(k));
  expect([...new Set(missing)]).toEqual([]);
});

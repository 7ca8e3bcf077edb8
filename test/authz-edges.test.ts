/**
 * The authorization matrix across edges: one table of principal × action, each action
 * tried through every edge that offers it — HTTP routes (Express and the lean ingest
 * path), the WebSocket live tail, the admin's own API (/admin/api/resources/…) and the
 * Expect: 100-continue pre-check — and every edge must reach the same verdict, since
 * they all ask the access module. (test/authz-matrix.test.ts is the per-route table of
 * the HTTP edge.)
 *
 * Verdicts: ok; unauthenticated (401, a closed socket 4001, the admin's login redirect);
 * hidden (404: the project is not visible); forbidden (403: visible, not allowed). The
 * admin answers both refusals the same way (an error notice and no record data).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { createApiKey } from '../src/domain/projects/projects.ts';
import { adminLogin, api, type Agent } from './helpers/adminHttp.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { multipart } from './helpers/multipart.ts';
import { listen, startWeb } from './helpers/stack.ts';

const PRINCIPALS = [
  'anonymous',
  'stranger',
  'viewer',
  'member',
  'admin',
  'owner',
  'staff',
  'machine',
  'ingestKey',
  'revokedKey',
  'deactivated',
] as const;
type Principal = (typeof PRINCIPALS)[number];
const PEOPLE = ['stranger', 'viewer', 'member', 'admin', 'owner', 'staff', 'deactivated'] as const;
type Person = (typeof PEOPLE)[number];
const isPerson = (p: Principal): p is Person => (PEOPLE as readonly string[]).includes(p);

type Verdict = 'ok' | 'unauthenticated' | 'hidden' | 'forbidden';
type Edge = 'http' | 'ws' | 'admin' | 'continue';

interface Action {
  name: string;
  /** What every edge must answer each principal. */
  verdicts: Record<Principal, Verdict>;
  edges: Partial<Record<Edge, (p: Principal) => Promise<Verdict>>>;
}

let stack: Awaited<ReturnType<typeof startWeb>>;
let ds: DataSource;
let base: string;
let projectId: number;
const users = {} as Record<Person, TestUser>;
const admins = {} as Partial<Record<Person, Agent>>;
let machine: string;
let ingestKey: string;
let revokedKey: string;

/** The credential a principal presents (a bearer token or key), or null. */
function credentialOf(p: Principal): string | null {
  if (p === 'anonymous') return null;
  if (p === 'machine') return machine;
  if (p === 'ingestKey') return ingestKey;
  if (p === 'revokedKey') return revokedKey;
  return users[p].access;
}

const fromStatus = (status: number): Verdict => {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 401) return 'unauthenticated';
  if (status === 404) return 'hidden';
  if (status === 403) return 'forbidden';
  throw new Error(`no verdict for ${status}`);
};

// --- the edges --------------------------------------------------------------------

async function viaHttp(
  p: Principal,
  method: 'get' | 'post' | 'patch',
  path: string,
  send?: { json?: object; raw?: { type: string; data: Buffer | string }; sentry?: boolean },
): Promise<Verdict> {
  let req = stack.http[method](path);
  const cred = credentialOf(p);
  if (cred)
    req = send?.sentry
      ? req.set('X-Sentry-Auth', `Sentry sentry_version=7, sentry_key=${cred}`)
      : req.set('Authorization', `Bearer ${cred}`);
  const res = send?.raw
    ? await req.set('Content-Type', send.raw.type).send(send.raw.data)
    : send?.json
      ? await req.send(send.json)
      : await req;
  return fromStatus(res.status);
}

/** The live tail: ?token= is checked before the upgrade; without one, the first message must bring it. */
function viaWebSocket(p: Principal, query: string): Promise<Verdict> {
  const cred = credentialOf(p);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/logs/?${query}${cred ? `&token=${encodeURIComponent(cred)}` : ''}`);
    ws.on('unexpected-response', (_req, res) => {
      resolve(fromStatus(res.statusCode ?? 0));
      ws.terminate();
    });
    ws.on('open', () => {
      if (!cred) ws.send(JSON.stringify({ token: null }));
    });
    ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type?: string }).type === 'connection_established') {
        resolve('ok');
        ws.close();
      }
    });
    ws.on('close', (code) => resolve(code === 4001 ? 'unauthenticated' : code === 4004 ? 'hidden' : 'forbidden'));
    ws.on('error', (err) => reject(err));
  });
}

/**
 * The admin's API, signed in as the person (a non-person has no way to sign in: no
 * session). A refusal is an error notice with no record data, a 403/404, or — signed
 * out — the redirect to the login page.
 */
async function viaAdmin(
  p: Principal,
  call: (agent: Agent) => Promise<{ status: number; body: AdminBody }>,
  succeeded: (body: AdminBody) => boolean,
): Promise<Verdict> {
  const agent = isPerson(p) ? admins[p] : undefined;
  if (!agent) return 'unauthenticated';
  const res = await call(agent);
  if (res.status === 302) return 'unauthenticated';
  if (res.status === 403 || res.status === 404) return 'forbidden';
  if (res.status !== 200) throw new Error(`admin answered ${res.status}`);
  return succeeded(res.body) ? 'ok' : 'forbidden';
}
interface AdminBody {
  notice?: { type: string };
  record?: { params: Record<string, unknown> };
  records?: Array<{ params: Record<string, unknown> }>;
}
const adminPost = (agent: Agent, path: string, form: Record<string, string>) => {
  let req = agent.post(`/admin/api${path}`).set('Origin', base);
  for (const [k, v] of Object.entries(form)) req = req.field(k, v);
  return req;
};

/**
 * A POST with Expect: 100-continue: ok means the server said Continue and then accepted
 * the body; a refusal must come on the headers alone — except where the body itself may
 * carry the credential (a Sentry envelope's DSN) and none came in the headers.
 */
function viaContinue(p: Principal, path: string, type: string, body: Buffer, sentry = false, bodyMayCarryKey = false): Promise<Verdict> {
  const cred = credentialOf(p);
  const headers: Record<string, string> = { 'Content-Type': type, Expect: '100-continue', 'Content-Length': String(body.length) };
  if (cred) headers[sentry ? 'X-Sentry-Auth' : 'Authorization'] = sentry ? `Sentry sentry_version=7, sentry_key=${cred}` : `Bearer ${cred}`;
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(`${base}${path}`, { method: 'POST', agent: false, headers });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        const verdict = fromStatus(res.statusCode!);
        // A refusal must come on the headers alone (the body never asked for); an acceptance after Continue.
        if (verdict === 'ok') resolve(continued ? 'ok' : ('accepted without 100 Continue' as Verdict));
        else if (continued && !(bodyMayCarryKey && !cred)) resolve(`${verdict} only after the body was sent` as Verdict);
        else resolve(verdict);
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
  });
}

// --- the data the actions touch -----------------------------------------------------

const logIn = async (): Promise<string> =>
  (
    await ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin) VALUES ($1, $2, 'log', now(), 'info', 'edge log', 'test') RETURNING id`,
      [projectId, `edge-${randomUUID()}`],
    )
  )[0].id;
const errorIn = async (): Promise<string> =>
  (
    await ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin) VALUES ($1, $2, 'error', now(), 'error', 'edge error', 'test') RETURNING id`,
      [projectId, `edge-${randomUUID()}`],
    )
  )[0].id;
async function issueIn(): Promise<string> {
  const [{ id }] = await ds.query(
    `INSERT INTO issues (project_id, fingerprint, title, level, first_seen, last_seen, times_seen) VALUES ($1, $2, 'edge', 'error', now(), now(), 1) RETURNING id`,
    [projectId, randomUUID().replace(/-/g, '').repeat(2)],
  );
  return String(id);
}
const dumpBody = () => multipart([{ name: 'file', filename: 'edge.dmp', data: Buffer.from(`MDMP ${randomUUID()}`) }]);
function envelope(): Buffer {
  const id = randomUUID().replace(/-/g, '');
  return Buffer.from(
    [
      JSON.stringify({ event_id: id }),
      JSON.stringify({ type: 'event' }),
      JSON.stringify({ event_id: id, message: 'edge', level: 'error' }),
    ].join('\n'),
  );
}

// --- the table ----------------------------------------------------------------------

/** `users` = every signed-in person in the project (viewer … owner) and staff; the rest by name. */
function verdicts(v: Partial<Record<Principal | 'inProject', Verdict>>): Record<Principal, Verdict> {
  const out = {} as Record<Principal, Verdict>;
  for (const p of PRINCIPALS) {
    const group = ['viewer', 'member', 'admin', 'owner', 'staff'].includes(p) ? v.inProject : undefined;
    out[p] = v[p] ?? group ?? (p === 'stranger' ? 'hidden' : p === 'machine' ? 'forbidden' : 'unauthenticated');
  }
  return out;
}
const ofKeys = (v: Verdict): Partial<Record<Principal, Verdict>> => ({ ingestKey: v });

const ACTIONS: Action[] = [
  {
    name: "read the project's logs",
    verdicts: verdicts({ inProject: 'ok' }),
    edges: {
      http: (p) => viaHttp(p, 'get', `/api/logs/?project=${projectId}`),
      ws: (p) => viaWebSocket(p, `project=${projectId}`),
      admin: async (p) => {
        const own = await logIn();
        return viaAdmin(
          p,
          (a) => api(a, `/resources/Log/actions/list?perPage=100&filters.projectId=${projectId}`),
          (b) => (b.records ?? []).some((r) => String(r.params.id) === own),
        );
      },
    },
  },
  {
    name: 'read one error event of the project',
    verdicts: verdicts({ inProject: 'ok' }),
    edges: {
      http: async (p) => viaHttp(p, 'get', `/api/projects/${projectId}/events/${await errorIn()}/`),
      admin: async (p) => {
        const id = await errorIn();
        return viaAdmin(
          p,
          (a) => api(a, `/resources/Event/records/${id}/show`),
          (b) => b.record?.params.message === 'edge error',
        );
      },
    },
  },
  {
    name: 'archive a log of the project',
    verdicts: verdicts({ inProject: 'ok', viewer: 'forbidden' }),
    edges: {
      http: async (p) => viaHttp(p, 'patch', `/api/logs/${await logIn()}/`, { json: { archived: true } }),
      admin: async (p) => {
        const id = await logIn();
        const verdict = await viaAdmin(
          p,
          (a) => adminPost(a, `/resources/Log/records/${id}/archive`, {}),
          (b) => b.notice?.type === 'success',
        );
        const [{ archived }] = await ds.query(`SELECT archived FROM events WHERE id = $1`, [id]);
        expect(archived).toBe(verdict === 'ok'); // a refusal changed nothing
        return verdict;
      },
    },
  },
  {
    name: 'create an API key for the project',
    verdicts: verdicts({ inProject: 'ok', viewer: 'forbidden', member: 'forbidden' }),
    edges: {
      http: (p) => viaHttp(p, 'post', '/api/apikeys/', { json: { project: projectId, name: 'edge' } }),
      admin: async (p) => {
        const name = `edge-${randomUUID()}`;
        const verdict = await viaAdmin(
          p,
          (a) => adminPost(a, '/resources/ApiKey/actions/new', { projectId: String(projectId), name }),
          (b) => b.notice?.type === 'success',
        );
        const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM api_keys WHERE name = $1`, [name]);
        expect(n).toBe(verdict === 'ok' ? 1 : 0);
        return verdict;
      },
    },
  },
  {
    name: 'resolve an issue of the project',
    verdicts: verdicts({ inProject: 'ok', viewer: 'forbidden' }),
    edges: {
      http: async (p) => viaHttp(p, 'patch', `/api/issues/${await issueIn()}/`, { json: { status: 'resolved' } }),
      admin: async (p) => {
        const id = await issueIn();
        const verdict = await viaAdmin(
          p,
          (a) => a.post(`/admin/api/resources/Issue/records/${id}/triage`).set('Origin', base).send({ status: 'resolved' }),
          (b) => b.notice?.type === 'success',
        );
        const [{ status }] = await ds.query(`SELECT status FROM issues WHERE id = $1`, [id]);
        expect(status).toBe(verdict === 'ok' ? 'resolved' : 'unresolved');
        return verdict;
      },
    },
  },
  {
    name: 'upload a crash dump to the project',
    verdicts: verdicts({ inProject: 'ok', viewer: 'forbidden', machine: 'ok', ...ofKeys('ok') }),
    edges: {
      http: (p) => {
        const form = dumpBody();
        return viaHttp(p, 'post', `/api/dumps/?project=${projectId}`, { raw: { type: form.contentType, data: form.body } });
      },
      continue: (p) => {
        const form = dumpBody();
        return viaContinue(p, `/api/dumps/?project=${projectId}`, form.contentType, form.body);
      },
    },
  },
  {
    name: 'send a Sentry envelope to the project (its key, as SDKs send it)',
    // Only a project key is a Sentry key: tokens of any kind are unknown keys.
    verdicts: verdicts({ stranger: 'unauthenticated', inProject: 'unauthenticated', machine: 'unauthenticated', ...ofKeys('ok') }),
    edges: {
      http: (p) =>
        viaHttp(p, 'post', `/api/${projectId}/envelope/`, {
          raw: { type: 'application/x-sentry-envelope', data: envelope() },
          sentry: true,
        }),
      continue: (p) => viaContinue(p, `/api/${projectId}/envelope/`, 'application/x-sentry-envelope', envelope(), true, true),
    },
  },
];

beforeAll(async () => {
  stack = await startWeb();
  ds = stack.web.ds;
  base = await listen(stack.web);
  for (const p of PEOPLE) users[p] = await createUser(ds, { isStaff: p === 'staff' });
  ({
    project: { id: projectId },
  } = await createProjectWithKey(ds, users.owner.user, 'Edges'));
  for (const role of ['viewer', 'member', 'admin'] as const)
    await ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)`, [projectId, users[role].user.id, role]);
  await ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, 'member')`, [
    projectId,
    users.deactivated.user.id,
  ]);
  const key = await createApiKey(ds.manager, projectId, {
    name: 'edges',
    scopes: ['ingest', 'dumps:upload'],
    createdById: users.owner.user.id,
  });
  ingestKey = key.secret;
  machine = (await stack.http.post('/api/auth/client-token/').send({ client_secret: ingestKey }).expect(200)).body.access;
  const revoked = await createApiKey(ds.manager, projectId, {
    name: 'revoked',
    scopes: ['ingest', 'dumps:upload'],
    createdById: users.owner.user.id,
  });
  await stack.http.delete(`/api/apikeys/${revoked.key.id}/`).set('Authorization', `Bearer ${users.owner.access}`).expect(204);
  revokedKey = revoked.secret;
  for (const p of PEOPLE) admins[p] = (await adminLogin(stack.web, users[p].user.email)).agent;
  // Signed in everywhere (a token, an admin session), then deactivated: all of it ends.
  await stack.http
    .patch(`/api/users/${users.deactivated.user.id}/`)
    .set('Authorization', `Bearer ${users.staff.access}`)
    .send({ is_active: false })
    .expect(200);
});
afterAll(async () => {
  await stack?.web.close();
});

const cases = ACTIONS.flatMap((a) => (Object.keys(a.edges) as Edge[]).map((edge) => [a.name, edge, a] as const));

describe.each(cases)('%s — via %s', (_name, edge, action) => {
  it.each(PRINCIPALS.map((p) => [p, action.verdicts[p]] as const))('%s → %s', async (p, verdict) => {
    // The admin has one way to refuse; and only people can sign in to it.
    const expected = edge === 'admin' ? (!isPerson(p) ? 'unauthenticated' : verdict === 'hidden' ? 'forbidden' : verdict) : verdict;
    expect(await action.edges[edge]!(p)).toBe(expected);
  });
});

it('every action is tried through more than one edge, and every edge is used', () => {
  for (const a of ACTIONS) expect(Object.keys(a.edges).length).toBeGreaterThan(1);
  expect(new Set(cases.map(([, edge]) => edge))).toEqual(new Set<Edge>(['http', 'ws', 'admin', 'continue']));
});

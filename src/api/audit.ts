import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { DataSource } from 'typeorm';
import { diff, record, type AuditActor, type Changes } from '../domain/audit/index.ts';
import type { Access } from '../domain/access/index.ts';
import { normalizeEmail } from '../domain/accounts/users.ts';
import { logger } from '../logger.ts';

type Row = Record<string, unknown>;

/** What a row of the table sees: the path's parameters, the request and response bodies, the row before and after. */
export interface AuditCtx {
  params: Record<string, string>;
  body: Row;
  response: Row | null;
  status: number;
  before: Row | null;
  after: Row | null;
  changes: Changes;
  /** The signed-in user's id, for routes on the caller's own row (`self`). */
  me: number | null;
  /** The projects of the auth token the request came with (sentry-cli), if any. */
  tokenProjects: number[];
}

/** One audited write route (`path` as Express writes it, mount path included). */
export interface AuditedRoute {
  method: 'post' | 'put' | 'patch' | 'delete';
  path: string;
  action: string | ((c: AuditCtx) => string);
  target: string;
  /** The row the route changes: it is read before and after, and the entry says what changed. Without one, the request body's fields are the "after". */
  row?: { table: string; key?: string; id: (c: AuditCtx) => unknown; fields?: readonly string[] };
  project?: (c: AuditCtx) => unknown;
  targetId?: (c: AuditCtx) => unknown;
  changes?: (c: AuditCtx) => Changes;
  /** Who acted, when the request does not carry a user (sign-in, registration). */
  actor?: (c: AuditCtx, base: Pick<AuditActor, 'ip' | 'userAgent'>, ds: DataSource) => Promise<AuditActor | null>;
  /** Record refusals too (failed sign-ins): status → action. */
  failure?: (status: number) => string | null;
  /** The route changes the caller's own row: resolve the user before the handler runs. */
  self?: boolean;
}

const fromResponse = (c: AuditCtx) => c.response?.id;
const param = (name: string) => (c: AuditCtx) => c.params[name];
const projectParam = (c: AuditCtx) => c.params.id;
const bodyChanges = (c: AuditCtx): Changes => Object.fromEntries(Object.entries(c.body ?? {}).map(([k, v]) => [k, [null, v]]));
/** sentry-cli names projects by slug; a token bound to one project says which. */
const tokenProject = (c: AuditCtx) => (c.tokenProjects.length === 1 ? c.tokenProjects[0] : null);
const responseChanges = (c: AuditCtx): Changes => Object.fromEntries(Object.entries(c.response ?? {}).map(([k, v]) => [k, [null, v]]));
const EVENT_FIELDS = ['kind', 'level', 'message', 'service', 'environment', 'archived', 'issue_id'] as const;

/** CRUD routes of a row that belongs to a project (`/:id` is the project in the path). */
function crud(
  base: string,
  target: string,
  table: string,
  idParam: string,
  opts: { create?: boolean; update?: Array<'put' | 'patch'>; del?: boolean } = {},
): AuditedRoute[] {
  const out: AuditedRoute[] = [];
  if (opts.create !== false)
    out.push({ method: 'post', path: base, action: `${target}.create`, target, row: { table, id: fromResponse }, project: projectParam });
  for (const method of opts.update ?? ['patch']) {
    out.push({
      method,
      path: `${base}/:${idParam}`,
      action: `${target}.update`,
      target,
      row: { table, id: param(idParam) },
      project: projectParam,
    });
  }
  if (opts.del !== false)
    out.push({
      method: 'delete',
      path: `${base}/:${idParam}`,
      action: `${target}.delete`,
      target,
      row: { table, id: param(idParam) },
      project: projectParam,
    });
  return out;
}

/** Sign-in: the actor is who signed in (or tried to: the address given, and its account if there is one). */
const signIn = (via: string): Pick<AuditedRoute, 'actor' | 'failure' | 'changes' | 'targetId'> => ({
  targetId: () => via,
  changes: () => ({}),
  failure: (status) => (status === 401 ? 'auth.login_failed' : null),
  actor: async (c, base, ds) => {
    const user = c.response?.user as { id: number; email: string } | undefined;
    if (c.status < 400 && user) return { type: 'user', id: user.id, label: user.email, ...base };
    const email = normalizeEmail(String(c.body?.email ?? c.body?.username ?? '')).slice(0, 254);
    const rows: Array<{ id: number }> = email ? await ds.query(`SELECT id FROM users WHERE email = $1`, [email]) : [];
    return { type: 'user', id: rows[0]?.id ?? null, label: email || '(no email)', ...base };
  },
});

const register: Pick<AuditedRoute, 'actor' | 'row' | 'project'> = {
  row: { table: 'users', id: fromResponse },
  project: (c) => (c.response?.project as { id?: number } | undefined)?.id,
  actor: async (c, base) => (c.response?.id ? { type: 'user', id: Number(c.response.id), label: String(c.response.email), ...base } : null),
};

const userAction = (c: AuditCtx) =>
  c.changes.is_active?.[0] === true && c.changes.is_active?.[1] === false ? 'user.deactivate' : 'user.update';
const keyAction = (c: AuditCtx) => (c.changes.revoked_at && c.changes.revoked_at[0] === null ? 'api_key.revoke' : 'api_key.update');
const issueAction = (c: AuditCtx) =>
  c.changes.status || c.changes.substatus
    ? 'issue.status'
    : c.changes.assignee_id
      ? 'issue.assign'
      : c.body?.comment
        ? 'issue.comment'
        : 'issue.update';
const issueRow = {
  table: 'issues',
  id: param('id'),
  fields: ['status', 'substatus', 'assignee_id', 'resolved_in_release', 'ignore_until', 'ignore_count'],
};

/**
 * Every write route of the API and what its audit entry says — as the authz matrix is for
 * access, this is the one table for the audit log: test/audit-routes.test.ts fails for a
 * write route that is neither here nor in NOT_AUDITED.
 */
export const AUDITED: AuditedRoute[] = [
  ...['/api/auth', '/auth'].flatMap((p): AuditedRoute[] => [
    { method: 'post', path: `${p}/login`, action: 'auth.login', target: 'session', ...signIn('api') },
    { method: 'post', path: `${p}/register`, action: 'user.register', target: 'user', ...register },
  ]),
  ...(['put', 'patch'] as const).map((method): AuditedRoute => ({
    method,
    path: '/api/user/profile',
    action: 'user.update',
    target: 'user',
    self: true,
    row: { table: 'users', id: (c) => c.me },
  })),
  { method: 'post', path: '/api/users', action: 'user.create', target: 'user', row: { table: 'users', id: fromResponse } },
  ...(['put', 'patch'] as const).map((method): AuditedRoute => ({
    method,
    path: '/api/users/:id',
    action: userAction,
    target: 'user',
    row: { table: 'users', id: param('id') },
  })),
  { method: 'delete', path: '/api/users/:id', action: 'user.delete', target: 'user', row: { table: 'users', id: param('id') } },

  { method: 'post', path: '/api/apikeys', action: 'api_key.create', target: 'api_key', row: { table: 'api_keys', id: fromResponse } },
  ...(['put', 'patch'] as const).map((method): AuditedRoute => ({
    method,
    path: '/api/apikeys/:id',
    action: keyAction,
    target: 'api_key',
    row: { table: 'api_keys', id: param('id') },
  })),
  { method: 'delete', path: '/api/apikeys/:id', action: 'api_key.revoke', target: 'api_key', row: { table: 'api_keys', id: param('id') } },
  {
    method: 'post',
    path: '/api/auth-tokens',
    action: 'auth_token.create',
    target: 'auth_token',
    row: { table: 'auth_tokens', id: fromResponse },
  },
  {
    method: 'delete',
    path: '/api/auth-tokens/:id',
    action: 'auth_token.revoke',
    target: 'auth_token',
    row: { table: 'auth_tokens', id: param('id') },
  },

  {
    method: 'post',
    path: '/api/projects',
    action: 'project.create',
    target: 'project',
    row: { table: 'projects', id: fromResponse },
    project: fromResponse,
  },
  {
    method: 'patch',
    path: '/api/projects/:id',
    action: 'project.update',
    target: 'project',
    row: { table: 'projects', id: param('id') },
    project: projectParam,
  },
  {
    method: 'delete',
    path: '/api/projects/:id',
    action: 'project.delete',
    target: 'project',
    row: { table: 'projects', id: param('id') },
    project: projectParam,
  },
  {
    method: 'post',
    path: '/api/projects/:id/members',
    action: 'member.invite',
    target: 'invitation',
    targetId: fromResponse,
    changes: responseChanges,
    project: projectParam,
  },
  {
    method: 'patch',
    path: '/api/projects/:id/members/:memberId',
    action: 'member.role',
    target: 'member',
    row: { table: 'project_members', id: param('memberId') },
    project: projectParam,
  },
  {
    method: 'delete',
    path: '/api/projects/:id/members/:memberId',
    action: 'member.remove',
    target: 'member',
    row: { table: 'project_members', id: param('memberId') },
    project: projectParam,
  },
  {
    method: 'delete',
    path: '/api/projects/:id/invitations/:invitationId',
    action: 'invitation.revoke',
    target: 'invitation',
    row: { table: 'project_invitations', id: param('invitationId'), fields: ['email', 'role', 'status', 'expires_at', 'revoked_at'] },
    project: projectParam,
  },
  ...(['accept', 'decline'] as const).map((verb): AuditedRoute => ({
    method: 'post',
    path: `/api/invitations/:id/${verb}`,
    action: `invitation.${verb}`,
    target: 'invitation',
    row: { table: 'project_invitations', id: param('id'), fields: ['email', 'role', 'status', 'accepted_at', 'declined_at'] },
  })),

  {
    method: 'put',
    path: '/api/projects/:id/inbound-filters',
    action: 'inbound_filters.update',
    target: 'project',
    row: { table: 'project_inbound_filters', key: 'project_id', id: param('id') },
    project: projectParam,
  },
  {
    method: 'put',
    path: '/api/projects/:id/quotas',
    action: 'quotas.update',
    target: 'project',
    targetId: param('id'),
    changes: bodyChanges,
    project: projectParam,
  },
  ...crud('/api/projects/:id/scrubbing-rules', 'scrubbing_rule', 'scrubbing_rules', 'rule_id'),
  ...crud('/api/projects/:id/alert-rules', 'alert_rule', 'alert_rules', 'ruleId'),
  ...crud('/api/projects/:id/alert-channels', 'alert_channel', 'alert_channels', 'channelId'),
  {
    method: 'post',
    path: '/api/projects/:id/alert-channels/:channelId/test',
    action: 'alert_channel.test',
    target: 'alert_channel',
    targetId: param('channelId'),
    changes: () => ({}),
    project: projectParam,
  },
  ...crud('/api/projects/:id/monitors', 'monitor', 'monitors', 'monitorId'),
  {
    method: 'post',
    path: '/api/projects/:id/releases',
    action: 'release.create',
    target: 'release',
    targetId: (c) => c.response?.version,
    changes: bodyChanges,
    project: projectParam,
  },
  {
    method: 'post',
    path: '/api/0/organizations/:org/releases',
    action: 'release.create',
    target: 'release',
    targetId: (c) => c.response?.version,
    changes: bodyChanges,
    project: tokenProject,
  },
  {
    method: 'put',
    path: '/api/0/organizations/:org/releases/:version',
    action: 'release.update',
    target: 'release',
    targetId: param('version'),
    changes: bodyChanges,
    project: tokenProject,
  },
  {
    method: 'post',
    path: '/api/0/organizations/:org/artifactbundle/assemble',
    action: 'artifact_bundle.assemble',
    target: 'artifact_bundle',
    targetId: (c) => c.body?.checksum,
    changes: () => ({}),
    project: tokenProject,
  },

  {
    method: 'patch',
    path: '/api/issues/:id',
    action: issueAction,
    target: 'issue',
    row: issueRow,
    changes: (c) => ({
      ...diff(c.before, c.after, { fields: issueRow.fields }),
      ...(c.body?.comment ? { comment: [null, c.body.comment] } : {}),
    }),
  },
  {
    method: 'post',
    path: '/api/issues/:id/comments',
    action: 'issue.comment',
    target: 'issue',
    row: { ...issueRow, fields: [] },
    changes: (c) => ({ comment: [null, c.body?.text] }),
  },

  {
    method: 'post',
    path: '/api/llm-prices',
    action: 'llm_price.create',
    target: 'llm_price',
    row: { table: 'llm_prices', id: fromResponse },
  },
  {
    method: 'patch',
    path: '/api/llm-prices/:id',
    action: 'llm_price.update',
    target: 'llm_price',
    row: { table: 'llm_prices', id: param('id') },
  },
  {
    method: 'delete',
    path: '/api/llm-prices/:id',
    action: 'llm_price.delete',
    target: 'llm_price',
    row: { table: 'llm_prices', id: param('id') },
  },

  ...(['put', 'patch'] as const).map((method): AuditedRoute => ({
    method,
    path: '/api/dumps/:id',
    action: 'dump.update',
    target: 'dump',
    row: { table: 'crash_dumps', id: param('id') },
  })),
  {
    method: 'delete',
    path: '/api/dumps/:id',
    action: 'dump.delete',
    target: 'dump',
    row: { table: 'crash_dumps', id: param('id'), fields: ['original_name', 'label', 'size', 'sha256', 'time'] },
  },
  ...['/api/logs', '/v1/api/logs'].flatMap((p): AuditedRoute[] => [
    ...(['put', 'patch'] as const).map((method): AuditedRoute => ({
      method,
      path: `${p}/:id`,
      action: 'log.update',
      target: 'log',
      row: { table: 'events', id: param('id'), fields: EVENT_FIELDS },
    })),
    {
      method: 'delete',
      path: `${p}/:id`,
      action: 'log.delete',
      target: 'log',
      row: { table: 'events', id: param('id'), fields: EVENT_FIELDS },
    },
  ]),
  {
    method: 'post',
    path: '/api/user-filter-preferences',
    action: 'filter_preference.create',
    target: 'filter_preference',
    row: { table: 'user_filter_preferences', id: fromResponse },
  },
  ...(['put', 'patch'] as const).map((method): AuditedRoute => ({
    method,
    path: '/api/user-filter-preferences/:id',
    action: 'filter_preference.update',
    target: 'filter_preference',
    row: { table: 'user_filter_preferences', id: param('id') },
  })),
  {
    method: 'delete',
    path: '/api/user-filter-preferences/:id',
    action: 'filter_preference.delete',
    target: 'filter_preference',
    row: { table: 'user_filter_preferences', id: param('id') },
  },
];

/** Write routes deliberately not in the log, and why (the route test requires a reason for every write route). */
export const NOT_AUDITED: Record<string, string> = {
  'post /api/auth/refresh': 'session bookkeeping: token rotation, not a change by the user (sign-ins are recorded)',
  'post /auth/refresh': 'the same, central de erros path',
  'post /api/auth/logout': 'session bookkeeping (ends one refresh token)',
  'post /auth/logout': 'the same, central de erros path',
  'post /api/auth/client-token': 'trades a key for a short-lived upload token; nothing is stored',
  'post /auth/client-token': 'the same, central de erros path',
  'post /v1/api/logs': "log ingestion (central de erros' path of the ingest table's /api/logs/ row)",
  'post /api/projects/{}/scrubbing-rules/test': 'the try-it endpoint: shows what a sample becomes, saves nothing',
  'post /api/0/organizations/{}/chunk-upload': 'content-addressed chunks; the assemble that makes them a bundle is recorded',
};

interface Compiled {
  route: AuditedRoute;
  re: RegExp;
  names: string[];
}

const compiled: Compiled[] = AUDITED.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, names, re: new RegExp(`^${source}/?$`) };
});

export function auditedRoute(method: string, path: string): { route: AuditedRoute; params: Record<string, string> } | null {
  const m = method.toLowerCase();
  for (const c of compiled) {
    if (c.route.method !== m) continue;
    const hit = c.re.exec(path);
    if (!hit) continue;
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(c.names.map((n, i) => [n, decodeURIComponent(hit[i + 1]!)]));
    } catch {
      return null;
    }
    return { route: c.route, params };
  }
  return null;
}

async function snapshot(ds: DataSource, table: string, key: string, id: unknown): Promise<Row | null> {
  if (id === undefined || id === null || id === '') return null;
  try {
    const rows: Row[] = await ds.query(`SELECT * FROM ${table} WHERE ${key} = $1`, [String(id)]);
    return rows[0] ?? null;
  } catch {
    return null; // an id that is not of the column's type: the route answers 4xx anyway
  }
}

/** The fields a route records (its project kept, so the entry can name it). */
const pick = (row: Row | null, fields?: readonly string[]) =>
  row && fields ? Object.fromEntries([...fields, ...('project_id' in row ? ['project_id'] : [])].map((f) => [f, row[f] ?? null])) : row;

function actorOfRequest(req: Request, base: Pick<AuditActor, 'ip' | 'userAgent'>): AuditActor | null {
  if (req.authToken && req.user)
    return { type: 'auth_token', id: req.authToken.id, label: `${req.user.email} (auth token ${req.authToken.id})`, ...base };
  if (req.user) return { type: 'user', id: req.user.id, label: req.user.email, ...base };
  return null;
}

const asId = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v));
const asProject = (v: unknown): number | null => {
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 && n < 2 ** 31 ? n : null;
};

/**
 * The HTTP edge of the audit log: for a write route of the table, reads the changed row
 * before the handler runs and again when the handler answers, and appends the entry
 * *before* the answer goes out — so a 2xx means the entry exists. Entries are written
 * after the change committed (the services own their transactions); a failure to write
 * one is logged as an error, the answer still goes out (the change is done).
 */
export function auditTrail(ds: DataSource, access: Access): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const found = auditedRoute(req.method, req.path);
    if (!found) return next();
    const { route, params } = found;
    const key = route.row?.key ?? 'id';
    void (async () => {
      const me = route.self
        ? await access.user(req).then(
            (u) => u.id,
            () => null,
          )
        : null;
      const beforeId = route.row
        ? route.row.id({ params, body: {}, response: null, status: 0, before: null, after: null, changes: {}, me, tokenProjects: [] })
        : undefined;
      const before = route.row ? await snapshot(ds, route.row.table, key, beforeId) : null;
      let response: unknown = null;
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        response = body;
        return json(body);
      };
      const end = res.end.bind(res) as (...a: unknown[]) => Response;
      let ended = false;
      res.end = ((...args: unknown[]) => {
        if (ended) return end(...args);
        ended = true;
        const status = res.statusCode;
        const failure = status >= 400 ? route.failure?.(status) : undefined;
        if (status >= 400 && !failure) return end(...args);
        const ctx: AuditCtx = {
          params,
          body: (req.body ?? {}) as Row,
          response: response && typeof response === 'object' ? (response as Row) : null,
          status,
          before: pick(before, route.row?.fields),
          after: null,
          changes: {},
          me,
          tokenProjects: req.authToken?.projectIds ?? [],
        };
        write(ds, req, route, ctx, failure ?? null)
          .catch((err: unknown) => logger.error({ err, action: route.action, path: req.path }, 'audit entry not written'))
          .finally(() => end(...args));
        return res;
      }) as Response['end'];
      next();
    })().catch(next);
  };
}

async function write(ds: DataSource, req: Request, route: AuditedRoute, c: AuditCtx, failure: string | null): Promise<void> {
  const base = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
  if (!failure && route.row) c.after = pick(await snapshot(ds, route.row.table, route.row.key ?? 'id', route.row.id(c)), route.row.fields);
  c.changes = failure ? {} : route.changes ? route.changes(c) : route.row ? diff(c.before, c.after) : bodyChanges(c);
  const actor = route.actor ? await route.actor(c, base, ds) : actorOfRequest(req, base);
  if (!actor) return;
  const row = c.after ?? c.before;
  await record(ds, actor, {
    action: failure ?? (typeof route.action === 'function' ? route.action(c) : route.action),
    targetType: route.target,
    targetId: asId(route.targetId ? route.targetId(c) : route.row ? (route.row.id(c) ?? row?.id) : null),
    projectId: asProject(route.project ? route.project(c) : (row?.project_id ?? null)),
    changes: c.changes,
  });
}

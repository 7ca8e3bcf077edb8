import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import type { ApiKeyScope } from '../../entities/ApiKey.ts';
import type { MemberRole } from '../../entities/ProjectMember.ts';
import { User } from '../../entities/User.ts';
import { signMachineToken, tokenType, verifyAccessToken, verifyMachineToken } from '../accounts/tokens.ts';
import { AppError, forbidden, notFound, unauthorized } from '../errors.ts';
import { bearerToken, hasAuthorization, isJwt, presentedKey, type RequestLike } from './credentials.ts';
import { secretsEqual, type ApiKeyResolver, type ResolvedKey } from './keys.ts';
import { can, memberRolesAllowed, type ProjectAction, type ProjectRole } from './policy.ts';
import { visibleProjectsSql, type Scope } from './scope.ts';
import { resolveAuthToken, type ResolvedAuthToken } from './authTokens.ts';

/** A person, as far as permissions go. */
export interface Actor {
  id: number;
  isStaff: boolean;
}

/** Who is calling an upload route, from the headers alone — decided before a byte of the body is read. */
export type Caller =
  | { kind: 'user'; user: User }
  | { kind: 'machine'; projectId: number; keyId: number | null }
  | { kind: 'api_key'; projectId: number; keyId: number }
  | { kind: 'anonymous' };

const validProjectId = (id: number) => Number.isSafeInteger(id) && id > 0 && id < 2 ** 31;

/**
 * The access module: the one place that answers "who is calling?" (users by access
 * token, API keys in every header style, machine tokens) and "what may they touch?"
 * (a role per project, one authorize that answers 404 for what the caller cannot see
 * and 403 for what they see but may not change, and the Scope every list query takes).
 * Every edge — the lean ingest runner, Express routes, the Expect: 100-continue check,
 * the WebSocket live tail, the admin — asks it; none parses credentials or writes
 * tenancy SQL of its own.
 */
export class Access {
  constructor(
    readonly ds: DataSource,
    readonly keys: ApiKeyResolver,
  ) {}

  // --- who is calling ------------------------------------------------------------

  /**
   * The active user behind an access token: 401 for a bad or expired token, an inactive
   * or deleted user, or a token issued before the user's last credential change
   * (token_version); 403 for a machine token, a real credential, only not for this.
   */
  async userFromToken(token: string): Promise<User> {
    let claims;
    try {
      claims = await verifyAccessToken(token);
    } catch (err) {
      if ((await tokenType(token)) === 'machine') throw forbidden('A machine token can only upload dumps', 'machine_token_not_allowed');
      throw err;
    }
    const user = await this.ds.getRepository(User).findOneBy({ id: claims.userId, isActive: true });
    if (!user) throw unauthorized('User is inactive or deleted', 'user_inactive');
    if (user.tokenVersion !== claims.version) {
      throw unauthorized('This session has ended (password, email or account status changed); log in again', 'token_revoked');
    }
    return user;
  }

  /** The user of a request (`Authorization: Bearer|JWT <access token>`): 401 without one. */
  async user(req: RequestLike): Promise<User> {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw unauthorized('Authentication required', 'authentication_required', 'Valid JWT token must be provided');
    return this.userFromToken(token);
  }

  /**
   * A tool's auth token (`Authorization: Bearer flt_…`, sentry-cli): a credential of its
   * own kind — not an access token, not an API key — acting for an active user. What it
   * may touch is then checked per project (authTokens.ts, tokenProjects).
   */
  async authToken(req: RequestLike): Promise<{ user: User; token: ResolvedAuthToken }> {
    const secret = bearerToken(req.headers.authorization);
    if (!secret) throw unauthorized('Send an auth token: Authorization: Bearer flt_…', 'authentication_required');
    const token = await resolveAuthToken(this.ds, secret);
    if (!token) throw unauthorized('Invalid or revoked auth token', 'invalid_token');
    const user = await this.ds.getRepository(User).findOneBy({ id: token.userId, isActive: true });
    if (!user) throw unauthorized('User is inactive or deleted', 'user_inactive');
    return { user, token };
  }

  /**
   * The API key a request presents in any accepted style (see credentials.ts), or
   * `fallback` (a key sent in the body, as DataIdea does; or a Sentry envelope's DSN):
   * 401 without one or for an unknown/revoked key; 403 when it belongs to another
   * project than `projectId` or lacks `scope`.
   */
  async apiKey(
    req: RequestLike,
    opts: { scope: ApiKeyScope; projectId?: number; sentry?: boolean; fallback?: string | null },
  ): Promise<ResolvedKey> {
    const secret = presentedKey(req, { sentry: opts.sentry }) ?? opts.fallback ?? null;
    if (!secret) throw unauthorized('API key required', 'authentication_required', 'Send Authorization: Bearer <api_key>');
    return this.checkKey(secret, opts.scope, opts.projectId);
  }

  /** Whether the headers (or, for Sentry, the query) present a key, so it can be checked before the body is read. */
  presentsKey(req: RequestLike, opts: { sentry?: boolean } = {}): boolean {
    return presentedKey(req, opts) !== null;
  }

  /** A secret known to be an API key (from a body field): the same checks as `apiKey`. */
  async checkKey(secret: string, scope: ApiKeyScope, projectId?: number): Promise<ResolvedKey> {
    const key = await this.keys.resolve(secret);
    if (!key) throw unauthorized('Invalid API key', 'invalid_api_key');
    if (projectId !== undefined && key.projectId !== projectId) throw forbidden('This key belongs to another project', 'wrong_project');
    if (!key.scopes.includes(scope)) throw forbidden(`This API key lacks the ${scope} scope`, 'scope_missing');
    return key;
  }

  /**
   * Upload routes (crash dumps) take any credential: a machine token, an API key with
   * `dumps:upload` directly, a user token — or none, where a project allows it.
   */
  async uploader(req: RequestLike): Promise<Caller> {
    if (!hasAuthorization(req)) return { kind: 'anonymous' };
    const token = bearerToken(req.headers.authorization);
    if (!token) throw unauthorized('Send "Authorization: Bearer <token or API key>"', 'authentication_required');
    if (!isJwt(token)) {
      const key = await this.checkKey(token, 'dumps:upload');
      return { kind: 'api_key', projectId: key.projectId, keyId: key.id };
    }
    if ((await tokenType(token)) === 'machine') {
      const m = await verifyMachineToken(token);
      if (!(await this.machineTokenValid(m)))
        throw unauthorized('The client secret this token was issued for is no longer valid', 'token_revoked');
      return { kind: 'machine', ...m };
    }
    return { kind: 'user', user: await this.userFromToken(token) };
  }

  /** A machine token lives as long as the secret it was traded for: a revoked key, or one without dumps:upload, ends it. */
  private async machineTokenValid(m: { projectId: number; keyId: number | null }): Promise<boolean> {
    if (m.keyId === null) return config.machineClient?.projectId === m.projectId;
    const key = await this.keys.byId(m.keyId);
    return Boolean(key && key.projectId === m.projectId && key.scopes.includes('dumps:upload'));
  }

  /**
   * The crash store's machine clients trade a secret for a short-lived, upload-only token bound to
   * one project: an API key with `dumps:upload`, or MACHINE_CLIENT_SECRET (for MACHINE_PROJECT).
   */
  async machineToken(secret: string): Promise<string> {
    const global = config.machineClient;
    if (global && secretsEqual(secret, global.secret)) return signMachineToken({ projectId: global.projectId, keyId: null });
    const key = await this.keys.resolve(secret);
    if (!key) throw unauthorized('Invalid client secret', 'invalid_client_secret');
    if (!key.scopes.includes('dumps:upload')) throw forbidden('This key lacks the dumps:upload scope', 'scope_missing');
    return signMachineToken({ projectId: key.projectId, keyId: key.id });
  }

  /**
   * The project an upload goes to, authorized. Machine tokens and API keys are bound to
   * theirs; users need edit_data in the named project or default to their personal one;
   * anonymous uploads must name a project that allows them (`settings.allowAnonymousDumps`)
   * — any other case is the same 401, so probing reveals nothing about which projects exist.
   */
  async uploadTarget(caller: Caller, requested: number | undefined): Promise<number> {
    switch (caller.kind) {
      case 'machine':
      case 'api_key':
        if (requested !== undefined && requested !== caller.projectId)
          throw forbidden('This credential uploads to another project', 'wrong_project');
        return caller.projectId;
      case 'user': {
        const id = requested ?? (await this.personalProject(caller.user.id));
        await this.authorize(caller.user, id, 'edit_data');
        return id;
      }
      case 'anonymous': {
        const rows: Array<{ allowed: boolean }> =
          requested !== undefined && validProjectId(requested)
            ? await this.ds.query(`SELECT (settings->'allowAnonymousDumps') = 'true'::jsonb AS allowed FROM projects WHERE id = $1`, [
                requested,
              ])
            : [];
        if (!rows[0]?.allowed) {
          throw unauthorized(
            'Authentication required',
            'authentication_required',
            'Send a machine token, an API key with dumps:upload or a user token; anonymous uploads need a project that allows them, named by ?project= or a project field before the file',
          );
        }
        return requested!;
      }
    }
  }

  /** Whether an anonymous upload could name a project that takes it (in a form field, after the headers). */
  async anonymousUploadsPossible(): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 FROM projects WHERE (settings->'allowAnonymousDumps') = 'true'::jsonb LIMIT 1`);
    return rows.length > 0;
  }

  // --- what they may touch -------------------------------------------------------

  /** The actor's role in a project, or null when they cannot see it (or it does not exist). */
  async roleIn(actor: Actor, projectId: number): Promise<ProjectRole | null> {
    if (!validProjectId(projectId)) return null;
    const rows: Array<{ owner_id: number; role: MemberRole | null }> = await this.ds.query(
      `SELECT p.owner_id, m.role FROM projects p
         LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $2
        WHERE p.id = $1`,
      [projectId, actor.id],
    );
    const row = rows[0];
    if (!row) return null;
    if (row.owner_id === actor.id) return 'owner';
    if (row.role) return row.role;
    return actor.isStaff ? 'staff' : null;
  }

  /**
   * Tenancy and roles in one call: a project the caller cannot see is 404 (its existence
   * is not revealed); one they can see but may not do `action` in is 403.
   */
  async authorize(actor: Actor, projectId: number, action: ProjectAction = 'view', what = 'Project'): Promise<ProjectRole> {
    const role = await this.roleIn(actor, projectId);
    if (!role) throw notFound(`${what} not found`);
    if (!can(role, action)) throw forbidden(`Your role (${role}) does not allow this`);
    return role;
  }

  /**
   * A row of some project (a log, a dump, an issue, a key): 404 "<what> not found" when it
   * does not exist or its project is not visible — never its data —, 403 when the caller
   * sees it but may not do `action`.
   */
  async guard<T>(
    actor: Actor,
    row: T | null | undefined,
    projectIdOf: (row: T) => number,
    action: ProjectAction,
    what: string,
  ): Promise<T> {
    if (!row) throw notFound(`${what} not found`);
    try {
      await this.authorize(actor, projectIdOf(row), action, what);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) throw notFound(`${what} not found`);
      throw err;
    }
    return row;
  }

  /**
   * What a read may touch: one named project (404 unless visible), or every project the
   * actor can see — staff: everything.
   */
  async scope(actor: Actor, projectId?: number): Promise<Scope> {
    if (projectId !== undefined) {
      await this.authorize(actor, projectId, 'view');
      return { all: false, projectIds: [projectId] };
    }
    return this.scopeFor(actor, 'view');
  }

  /** The projects where the actor may do `action` (staff: all). */
  async scopeFor(actor: Actor, action: ProjectAction): Promise<Scope> {
    if (actor.isStaff) return { all: true };
    const rows: Array<{ id: number }> = await this.ds.query(
      visibleProjectsSql('$1', action === 'view' ? undefined : memberRolesAllowed(action)),
      [actor.id],
    );
    return { all: false, projectIds: rows.map((r) => r.id).sort((a, b) => a - b) };
  }

  /** The actor's own roles per project (owner or member role), for callers that check synchronously (the admin). */
  async rolesOf(userId: number): Promise<Record<string, Exclude<ProjectRole, 'staff'>>> {
    const rows: Array<{ project_id: number; role: Exclude<ProjectRole, 'staff'> }> = await this.ds.query(
      `SELECT id AS project_id, 'owner' AS role FROM projects WHERE owner_id = $1
       UNION ALL SELECT project_id, role FROM project_members WHERE user_id = $1`,
      [userId],
    );
    return Object.fromEntries(rows.map((r) => [String(r.project_id), r.role]));
  }

  /** The user's personal project: the default target of user-scoped writes. */
  async personalProject(userId: number): Promise<number> {
    const rows: Array<{ id: number }> = await this.ds.query(
      `SELECT id FROM projects WHERE owner_id = $1 AND is_personal ORDER BY id LIMIT 1`,
      [userId],
    );
    if (!rows[0]) throw notFound('You have no personal project; send "project"', 'no_personal_project');
    return rows[0].id;
  }
}

/**
 * Auth tokens: what a user gives a tool (sentry-cli) to act for them on some of their
 * projects — upload source maps, create releases. `flt_` + 40 base62 characters; only
 * the SHA-256 is stored (like API keys), the secret is shown once at creation. A token
 * can do no more than its user could (role checked on every use) and only in the
 * projects it names. Kept apart from API keys, which belong to a project, not a person.
 */
import { createHash, randomInt } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuthToken, type AuthTokenScope } from '../../entities/AuthToken.ts';
import { notFound } from '../errors.ts';
import type { Access, Actor } from './access.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const AUTH_TOKEN_PREFIX = 'flt_';
const PATTERN = /^flt_[0-9A-Za-z]{40}$/;

export const hashAuthToken = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function generateAuthToken(): { secret: string; prefix: string; hash: string } {
  let body = '';
  for (let i = 0; i < 40; i++) body += BASE62[randomInt(62)];
  const secret = AUTH_TOKEN_PREFIX + body;
  return { secret, prefix: secret.slice(0, AUTH_TOKEN_PREFIX.length + 8), hash: hashAuthToken(secret) };
}

export interface ResolvedAuthToken {
  id: number;
  userId: number;
  projectIds: number[];
  scopes: AuthTokenScope[];
}

/** The live token behind a secret, or null (unknown, revoked, malformed). */
export async function resolveAuthToken(ds: DataSource, secret: string): Promise<ResolvedAuthToken | null> {
  if (!PATTERN.test(secret)) return null;
  // TypeORM answers an UPDATE … RETURNING as [rows, affected].
  const [rows]: [Array<{ id: number; user_id: number; project_ids: number[]; scopes: AuthTokenScope[] }>, number] = await ds.query(
    `UPDATE auth_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id, user_id, project_ids, scopes`,
    [hashAuthToken(secret)],
  );
  const r = rows[0];
  return r ? { id: r.id, userId: r.user_id, projectIds: r.project_ids, scopes: r.scopes } : null;
}

/** May this token (and its user, now) `triage` in the project? 404 when not: the project's existence is not revealed. */
export async function authorizeTokenProject(
  access: Access,
  token: ResolvedAuthToken,
  actor: Actor,
  projectId: number,
  scope: AuthTokenScope = 'project:releases',
): Promise<void> {
  if (!token.projectIds.includes(projectId) || !token.scopes.includes(scope)) throw notFound('Project not found');
  await access.authorize(actor, projectId, 'triage');
}

export function serializeAuthToken(t: AuthToken) {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    projects: t.projectIds,
    scopes: t.scopes,
    created_at: t.createdAt.toISOString(),
    last_used_at: t.lastUsedAt?.toISOString() ?? null,
    revoked_at: t.revokedAt?.toISOString() ?? null,
    is_active: t.revokedAt === null,
  };
}

export async function createAuthToken(access: Access, actor: Actor, input: { name: string; projects: number[]; scopes: AuthTokenScope[] }) {
  const { ds } = access;
  // Only projects where the user may triage: a token never carries more than its user has.
  for (const p of input.projects) await access.authorize(actor, p, 'triage');
  const { secret, prefix, hash } = generateAuthToken();
  const token = await ds.getRepository(AuthToken).save(
    ds.getRepository(AuthToken).create({
      userId: actor.id,
      name: input.name,
      prefix,
      tokenHash: hash,
      projectIds: [...new Set(input.projects)],
      scopes: input.scopes,
      revokedAt: null,
      lastUsedAt: null,
    }),
  );
  return { token, secret };
}

export const listAuthTokens = (ds: DataSource, userId: number) =>
  ds.getRepository(AuthToken).find({ where: { userId }, order: { id: 'DESC' } });

export async function revokeAuthToken(ds: DataSource, userId: number, id: number): Promise<void> {
  const token = Number.isSafeInteger(id) && id < 2 ** 31 ? await ds.getRepository(AuthToken).findOneBy({ id, userId }) : null;
  if (!token) throw notFound('Auth token not found');
  if (!token.revokedAt) await ds.getRepository(AuthToken).update(id, { revokedAt: new Date() });
}

/** Projects named as tools name them (slug or numeric id), each checked against the token: 404 for any it may not use. */
export async function tokenProjects(
  access: Access,
  token: ResolvedAuthToken,
  actor: Actor,
  names: string[],
): Promise<Array<{ id: number; slug: string; name: string }>> {
  const rows: Array<{ id: number; slug: string; name: string }> = await access.ds.query(
    `SELECT id, slug, name FROM projects WHERE slug = ANY($1::text[]) OR id::text = ANY($1::text[])`,
    [names],
  );
  const out = [];
  for (const n of names) {
    const p = rows.find((r) => r.slug === n || String(r.id) === n);
    if (!p) throw notFound(`Project "${n}" not found`);
    await authorizeTokenProject(access, token, actor, p.id);
    out.push(p);
  }
  return out;
}

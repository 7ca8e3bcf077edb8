import { ApiKey, type ApiKeyScope } from '../../entities/ApiKey.ts';
import { scopeCondition, type Access, type Actor, type Scope } from '../access/index.ts';
import { createApiKey } from './projects.ts';

/** What a new key may do when the caller does not say: ingest and upload dumps (the API's and the admin's default). */
export const DEFAULT_KEY_SCOPES: ApiKeyScope[] = ['ingest', 'dumps:upload'];

export function serializeKey(k: ApiKey) {
  return {
    id: k.id,
    project: k.projectId,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_by: k.createdById,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
    is_active: k.revokedAt === null,
  };
}

/**
 * Keys of the projects where the actor manages keys (owner, admin; staff: all). A named
 * project is checked like everywhere else: 404 when invisible, 403 for a viewer or member.
 */
export async function listKeys(access: Access, actor: Actor, projectId?: number): Promise<ApiKey[]> {
  let scope: Scope;
  if (projectId !== undefined) {
    await access.authorize(actor, projectId, 'manage_keys');
    scope = { all: false, projectIds: [projectId] };
  } else {
    scope = await access.scopeFor(actor, 'manage_keys');
  }
  const qb = access.ds.getRepository(ApiKey).createQueryBuilder('k').orderBy('k.id', 'DESC');
  const inScope = scopeCondition(scope, 'k.project_id');
  if (inScope) qb.andWhere(inScope.sql, inScope.params);
  return qb.getMany();
}

export async function createKey(access: Access, actor: Actor, projectId: number, input: { name: string; scopes?: ApiKeyScope[] }) {
  await access.authorize(actor, projectId, 'manage_keys');
  return createApiKey(access.ds.manager, projectId, {
    name: input.name,
    scopes: input.scopes ?? DEFAULT_KEY_SCOPES,
    createdById: actor.id,
  });
}

/** A key the actor may manage; a key in a project they cannot see is 404, one they only view is 403. */
export async function keyFor(access: Access, actor: Actor, id: number): Promise<ApiKey> {
  const key = Number.isSafeInteger(id) && id < 2 ** 31 ? await access.ds.getRepository(ApiKey).findOneBy({ id }) : null;
  return access.guard(actor, key, (k) => k.projectId, 'manage_keys', 'API key');
}

/** Name and scopes; the key cache forgets it at once here (other web processes within API_KEY_CACHE_TTL_MS). */
export async function updateKey(access: Access, key: ApiKey, changes: { name?: string; scopes?: ApiKeyScope[] }): Promise<ApiKey> {
  if (changes.name !== undefined) key.name = changes.name;
  if (changes.scopes !== undefined) key.scopes = changes.scopes;
  const saved = await access.ds.getRepository(ApiKey).save(key);
  access.keys.invalidate();
  return saved;
}

/**
 * Revoking is final and keeps the row (who made it, when it was last used). The key
 * stops authenticating at once in this process and within API_KEY_CACHE_TTL_MS elsewhere.
 */
export async function revokeKey(access: Access, key: ApiKey): Promise<void> {
  if (!key.revokedAt) await access.ds.getRepository(ApiKey).update({ id: key.id }, { revokedAt: new Date() });
  access.keys.invalidate();
}

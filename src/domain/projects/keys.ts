import type { DataSource } from 'typeorm';
import { ApiKey, type ApiKeyScope } from '../../entities/ApiKey.ts';
import { notFound } from '../errors.ts';
import { authorize, type Actor } from './access.ts';
import { createApiKey } from './projects.ts';

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

/** Keys of the projects where the actor manages keys (owner, admin; staff: all). */
export async function listKeys(ds: DataSource, actor: Actor, projectId?: number): Promise<ApiKey[]> {
  // A named project is checked like everywhere else: 404 when invisible, 403 for a viewer or member.
  if (projectId !== undefined) await authorize(ds, actor, projectId, 'manage_keys');
  const qb = ds.getRepository(ApiKey).createQueryBuilder('k').orderBy('k.id', 'DESC');
  if (projectId !== undefined) qb.andWhere('k.project_id = :projectId', { projectId });
  if (!actor.isStaff) {
    qb.andWhere(
      `k.project_id IN (SELECT id FROM projects WHERE owner_id = :uid
                        UNION SELECT project_id FROM project_members WHERE user_id = :uid AND role = 'admin')`,
      { uid: actor.id },
    );
  }
  return qb.getMany();
}

export async function createKey(ds: DataSource, actor: Actor, projectId: number, input: { name: string; scopes: ApiKeyScope[] }) {
  await authorize(ds, actor, projectId, 'manage_keys');
  return createApiKey(ds.manager, projectId, { name: input.name, scopes: input.scopes, createdById: actor.id });
}

/** A key the actor may manage; a key in a project they cannot see is 404, one they only view is 403. */
export async function keyFor(ds: DataSource, actor: Actor, id: number): Promise<ApiKey> {
  const key = Number.isSafeInteger(id) && id < 2 ** 31 ? await ds.getRepository(ApiKey).findOneBy({ id }) : null;
  if (!key) throw notFound('API key not found');
  try {
    await authorize(ds, actor, key.projectId, 'manage_keys');
  } catch (err) {
    if ((err as { status?: number }).status === 404) throw notFound('API key not found');
    throw err;
  }
  return key;
}

export async function updateKey(ds: DataSource, key: ApiKey, changes: { name?: string; scopes?: ApiKeyScope[] }): Promise<ApiKey> {
  if (changes.name !== undefined) key.name = changes.name;
  if (changes.scopes !== undefined) key.scopes = changes.scopes;
  return ds.getRepository(ApiKey).save(key);
}

/** Revoking is final and keeps the row (for audit); the key stops authenticating within the resolver's cache TTL. */
export async function revokeKey(ds: DataSource, key: ApiKey): Promise<void> {
  if (!key.revokedAt) await ds.getRepository(ApiKey).update({ id: key.id }, { revokedAt: new Date() });
}

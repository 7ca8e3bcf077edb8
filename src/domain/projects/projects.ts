import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ApiKey, type ApiKeyScope } from '../../entities/ApiKey.ts';
import { Project } from '../../entities/Project.ts';
import { generateApiKey } from '../apiKeys.ts';

export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return base || 'project';
}

async function freeSlug(em: EntityManager, wanted: string): Promise<string> {
  let slug = wanted;
  while (await em.existsBy(Project, { slug })) slug = `${wanted}-${randomBytes(3).toString('hex')}`;
  return slug;
}

export interface NewProject {
  ownerId: number;
  name: string;
  description?: string;
  slug?: string;
  isPersonal?: boolean;
}

export interface CreatedKey {
  key: ApiKey;
  /** The secret, shown once. Only its hash is stored. */
  secret: string;
}

export async function createApiKey(
  em: EntityManager,
  projectId: number,
  opts: { name: string; scopes: ApiKeyScope[]; createdById: number | null },
): Promise<CreatedKey> {
  const { secret, prefix, hash } = generateApiKey();
  const key = em.create(ApiKey, { projectId, name: opts.name, prefix, keyHash: hash, scopes: opts.scopes, createdById: opts.createdById });
  await em.save(key);
  return { key, secret };
}

/** A project and its first `ingest` key (the seeds' "project api_key"). Run it inside a transaction. */
export async function createProject(em: EntityManager, input: NewProject): Promise<{ project: Project } & CreatedKey> {
  const slug = await freeSlug(em, slugify(input.slug ?? input.name));
  const project = em.create(Project, {
    name: input.name,
    slug,
    description: input.description ?? '',
    ownerId: input.ownerId,
    isPersonal: input.isPersonal ?? false,
    settings: {},
  });
  await em.save(project);
  const created = await createApiKey(em, project.id, { name: 'Default', scopes: ['ingest'], createdById: input.ownerId });
  return { project, ...created };
}

export function serializeProject(p: Project) {
  return {
    id: p.id,
    name: p.name,
    slug: p.slug,
    description: p.description,
    owner: p.ownerId,
    is_personal: p.isPersonal,
    retention_days: p.retentionDays,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

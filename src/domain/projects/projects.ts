import { randomBytes, randomInt } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ApiKey, type ApiKeyScope } from '../../entities/ApiKey.ts';
import { Project } from '../../entities/Project.ts';
import { ProjectMember } from '../../entities/ProjectMember.ts';
import { badRequest, conflict } from '../errors.ts';
import { hashApiKey } from '../access/index.ts';

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

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_PREFIX = 'flk_';

/** `flk_` + 32 base62 characters (~190 bits). The first 8 random characters are the visible prefix. */
export function generateApiKey(): { secret: string; prefix: string; hash: string } {
  let body = '';
  for (let i = 0; i < 32; i++) body += BASE62[randomInt(62)];
  const secret = API_KEY_PREFIX + body;
  return { secret, prefix: secret.slice(0, API_KEY_PREFIX.length + 8), hash: hashApiKey(secret) };
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
    settings: p.settings,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  };
}

export interface ProjectChanges {
  name?: string;
  description?: string;
  retentionDays?: number;
  settings?: Project['settings'];
}

export async function updateProject(em: EntityManager, id: number, changes: ProjectChanges): Promise<Project> {
  const project = await em.findOneByOrFail(Project, { id });
  if (changes.name !== undefined) project.name = changes.name;
  if (changes.description !== undefined) project.description = changes.description;
  if (changes.retentionDays !== undefined) project.retentionDays = changes.retentionDays;
  if (changes.settings !== undefined) project.settings = { ...project.settings, ...changes.settings };
  return em.save(project);
}

/**
 * Hands the project to another user, who must already be a member. The previous owner
 * stays on as an admin; the new owner's member row goes (the owner is never a member).
 */
export async function transferProject(em: EntityManager, id: number, newOwnerId: number): Promise<Project> {
  const project = await em.findOneByOrFail(Project, { id });
  if (project.ownerId === newOwnerId) return project;
  const member = await em.findOneBy(ProjectMember, { projectId: id, userId: newOwnerId });
  if (!member) throw badRequest('The new owner must already be a member of the project', { owner: ['not a member'] }, 'not_a_member');
  const previous = project.ownerId;
  await em.delete(ProjectMember, { id: member.id });
  project.ownerId = newOwnerId;
  project.isPersonal = false; // a personal project stops being anyone's personal default once given away
  await em.save(project);
  await em.insert(ProjectMember, { projectId: id, userId: previous, role: 'admin', invitedById: newOwnerId });
  return project;
}

export async function deleteProject(em: EntityManager, id: number): Promise<void> {
  const project = await em.findOneByOrFail(Project, { id });
  if (project.isPersonal) {
    throw conflict('A personal project cannot be deleted: it is where your data goes by default', 'personal_project');
  }
  await em.delete(Project, { id });
}

import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { scopeClause, type Access, type ProjectRole } from '../../../domain/access/index.ts';
import { announceAccessChange } from '../../../domain/accounts/accessChanges.ts';
import { inviteByEmail, listProjectInvitations, revokeInvitation } from '../../../domain/projects/invitations.ts';
import { changeMemberRole, listMembers, removeMember } from '../../../domain/projects/members.ts';
import { createProject, deleteProject, serializeProject, transferProject, updateProject } from '../../../domain/projects/projects.ts';
import { Project } from '../../../entities/Project.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { DEFAULT_PAGE_SIZE } from '../../../domain/pagination.ts';
import { pageLinks } from '../../pagination.ts';
import {
  CreateProjectBody,
  InvitationParams,
  MemberBody,
  MemberParams,
  MemberPatch,
  ProjectIdParam,
  ProjectListQuery,
  UpdateProjectBody,
} from './schema.ts';

export function projectRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.use(requireUser(access));

  const withRole = async (id: number, role: ProjectRole | null) => {
    const project = await ds.getRepository(Project).findOneByOrFail({ id });
    return { ...serializeProject(project), role };
  };

  r.get('/', async (req, res) => {
    const user = currentUser(req);
    const q = ProjectListQuery.parse(req.query);
    const page = { mode: 'page' as const, page: q.page ?? 1, pageSize: q.page_size ?? DEFAULT_PAGE_SIZE };
    const params: unknown[] = [];
    const where = scopeClause(await access.scope(user), params, 'id') ?? 'true';
    const [{ n }]: Array<{ n: number }> = await ds.query(`SELECT count(*)::int AS n FROM projects WHERE ${where}`, params);
    const ids: Array<{ id: number }> = await ds.query(
      `SELECT id FROM projects WHERE ${where} ORDER BY id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, page.pageSize, (page.page - 1) * page.pageSize],
    );
    const projects = ids.length
      ? await ds.getRepository(Project).find({ where: ids.map((x) => ({ id: x.id })), order: { id: 'ASC' } })
      : [];
    const own = await access.rolesOf(user.id);
    const roles = new Map(projects.map((p) => [p.id, own[String(p.id)] ?? 'staff']));
    const hasMore = page.page * page.pageSize < n;
    res.json({
      count: n,
      ...pageLinks(req, page, { hasMore, nextCursor: null }),
      results: projects.map((p) => ({ ...serializeProject(p), role: roles.get(p.id) })),
    });
  });

  r.post('/', async (req, res) => {
    const user = currentUser(req);
    const body = CreateProjectBody.parse(req.body);
    const { project, secret } = await ds.transaction((em) =>
      createProject(em, { ownerId: user.id, name: body.name, description: body.description, slug: body.slug }),
    );
    res.status(201).json({ ...serializeProject(project), role: 'owner', api_key: secret });
  });

  r.get('/:id', async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    res.json(await withRole(id, await access.authorize(currentUser(req), id, 'view')));
  });

  r.patch('/:id', async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    const actor = currentUser(req);
    await access.authorize(actor, id, 'edit_project');
    const body = UpdateProjectBody.parse(req.body);
    if (body.owner !== undefined) await access.authorize(actor, id, 'transfer_project');
    const previousOwner = await ds.transaction(async (em) => {
      const before = await em.findOneByOrFail(Project, { id });
      await updateProject(em, id, {
        name: body.name,
        description: body.description,
        retentionDays: body.retention_days,
        settings: body.settings,
      });
      if (body.owner !== undefined) await transferProject(em, id, body.owner);
      return before.ownerId;
    });
    if (body.owner !== undefined && body.owner !== previousOwner) await announceAccessChange({ users: [previousOwner, body.owner] });
    res.json(await withRole(id, await access.roleIn(actor, id))); // a transfer changes the caller's role
  });

  r.delete('/:id', async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'delete_project');
    await ds.transaction((em) => deleteProject(em, id));
    await announceAccessChange({ projects: [id] }); // after the commit: live tails drop it now
    res.status(204).end();
  });

  // Members: Panties' invitations by email, with roles — granted only once the invitee accepts.
  r.get('/:id/members', async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    const results = await listMembers(ds, id);
    res.json({ count: results.length, next: null, previous: null, results });
  });

  r.post('/:id/members', async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    const actor = currentUser(req);
    await access.authorize(actor, id, 'manage_members');
    const body = MemberBody.parse(req.body);
    res.status(201).json(await inviteByEmail(ds, id, body.email, body.role, actor.id));
  });

  r.get('/:id/invitations', async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'manage_members');
    const results = await listProjectInvitations(ds, id);
    res.json({ count: results.length, next: null, previous: null, results });
  });

  r.delete('/:id/invitations/:invitationId', async (req, res) => {
    const { id, invitationId } = InvitationParams.parse(req.params);
    await access.authorize(currentUser(req), id, 'manage_members');
    await revokeInvitation(ds, id, invitationId);
    res.status(204).end();
  });

  r.patch('/:id/members/:memberId', async (req, res) => {
    const { id, memberId } = MemberParams.parse(req.params);
    await access.authorize(currentUser(req), id, 'manage_members');
    const { role } = MemberPatch.parse(req.body);
    res.json(await changeMemberRole(ds, id, memberId, role));
  });

  r.delete('/:id/members/:memberId', async (req, res) => {
    const { id, memberId } = MemberParams.parse(req.params);
    const actor = currentUser(req);
    const role = await access.authorize(actor, id, 'view');
    await removeMember(ds, id, memberId, { id: actor.id, role });
    res.status(204).end();
  });

  return r;
}

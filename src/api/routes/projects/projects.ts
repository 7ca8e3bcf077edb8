import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { requireProjectRole } from '../../../domain/projects/access.ts';
import { createProject, serializeProject } from '../../../domain/projects/projects.ts';
import { Project } from '../../../entities/Project.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { CreateProjectBody, ProjectIdParam } from './schema.ts';

export function projectRoutes(ds: DataSource): Router {
  const r = Router();
  r.use(requireUser(ds));

  r.get('/', async (req, res) => {
    const user = currentUser(req);
    const rows: Array<{ id: number; role: string }> = await ds.query(
      `SELECT p.id, CASE WHEN p.owner_id = $1 THEN 'owner' ELSE coalesce(m.role, 'staff') END AS role
         FROM projects p
         LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $1
        WHERE p.owner_id = $1 OR m.user_id IS NOT NULL OR $2
        ORDER BY p.id`,
      [user.id, user.isStaff],
    );
    const projects = rows.length ? await ds.getRepository(Project).find({ where: rows.map((r) => ({ id: r.id })), order: { id: 'ASC' } }) : [];
    const roles = new Map(rows.map((r) => [r.id, r.role]));
    const results = projects.map((p) => ({ ...serializeProject(p), role: roles.get(p.id) }));
    res.json({ count: results.length, next: null, previous: null, results });
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
    const role = await requireProjectRole(ds, currentUser(req), id);
    const project = await ds.getRepository(Project).findOneByOrFail({ id });
    res.json({ ...serializeProject(project), role });
  });

  return r;
}

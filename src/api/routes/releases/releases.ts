import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { DEFAULT_PAGE_SIZE } from '../../../domain/pagination.ts';
import type { Access } from '../../../domain/access/index.ts';
import { createRelease, getRelease, listReleases } from '../../../domain/releases/manage.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks } from '../../pagination.ts';
import { ReleaseBody, ReleaseListQuery, ReleaseParam } from './schema.ts';
import { ProjectIdParam } from '../projects/schema.ts';

/** /api/projects/{id}/releases/ — mounted under /api/projects. */
export function releaseRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.get('/:id/releases', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    const q = ReleaseListQuery.parse(req.query);
    const page = { mode: 'page' as const, page: q.page ?? 1, pageSize: q.page_size ?? DEFAULT_PAGE_SIZE };
    const { count, rows } = await listReleases(ds, id, page);
    res.json({ count, ...pageLinks(req, page, { hasMore: page.page * page.pageSize < count, nextCursor: null }), results: rows });
  });

  r.post('/:id/releases', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    const user = currentUser(req);
    await access.authorize(user, id, 'triage');
    const b = ReleaseBody.parse(req.body);
    const { created, release } = await createRelease(
      ds,
      id,
      { version: b.version, dateReleased: b.date_released ? new Date(b.date_released) : undefined },
      user.id,
    );
    res.status(created ? 201 : 200).json(release);
  });

  r.get('/:id/releases/:version', requireUser(access), async (req, res) => {
    const { id, version } = ReleaseParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    res.json(await getRelease(ds, id, version));
  });
  return r;
}

import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { badRequest } from '../../../domain/errors.ts';
import { listEvents, serializeEvent } from '../../../domain/events/query.ts';
import { normalizeLevel, type Level } from '../../../domain/levels.ts';
import { requireProjectRole } from '../../../domain/projects/access.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks, pageRequest } from '../../pagination.ts';
import { ProjectIdParam } from '../projects/schema.ts';
import { EventListQuery, ProjectEventParam } from './schema.ts';
import { projectEvent } from '../../../domain/issues/details.ts';

function parseLevels(raw: string | undefined): Level[] | undefined {
  if (!raw) return undefined;
  return raw.split(',').map((name) => {
    const level = normalizeLevel(name);
    if (!level) throw badRequest(`Unknown level "${name}"`, { level: [`unknown level "${name}"`] });
    return level;
  });
}

/** GET /api/projects/{id}/events/ — mounted under /api/projects. */
export function projectEventRoutes(ds: DataSource): Router {
  const r = Router({ mergeParams: true });
  r.get('/:id/events', requireUser(ds), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await requireProjectRole(ds, currentUser(req), id, 'viewer');
    const q = EventListQuery.parse(req.query);
    const page = pageRequest(q);
    const result = await listEvents(
      ds,
      { projectId: id, kind: 'error', search: q.search?.trim() || undefined, levels: parseLevels(q.level), environment: q.environment },
      page,
    );
    res.json({ count: result.count, ...pageLinks(req, page, result), results: result.rows.map(serializeEvent) });
  });
  // One event in full, structured data included (any kind: an issue's events may be error logs).
  r.get('/:id/events/:event_id', requireUser(ds), async (req, res) => {
    const { id, event_id } = ProjectEventParam.parse(req.params);
    await requireProjectRole(ds, currentUser(req), id, 'viewer');
    res.json(await projectEvent(ds, id, event_id));
  });
  return r;
}

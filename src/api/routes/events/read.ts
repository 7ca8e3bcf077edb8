import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { badRequest, notFound } from '../../../domain/errors.ts';
import { findEvent, listEvents, serializeEvent } from '../../../domain/events/query.ts';
import { parseLevelList } from '../../../domain/logs/filters.ts';
import type { Access } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageRequest, sendPage } from '../../pagination.ts';
import { ProjectIdParam } from '../projects/schema.ts';
import { EventIdParams, EventListQuery } from './schema.ts';

/** GET /api/projects/{id}/events/ and …/events/{event_pk}/ — mounted under /api/projects. */
export function projectEventRoutes(ds: DataSource, access: Access): Router {
  const r = Router({ mergeParams: true });
  r.get('/:id/events', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    const q = EventListQuery.parse(req.query);
    const page = pageRequest(q);
    const result = await listEvents(
      ds,
      { projectId: id, kind: 'error', search: q.search?.trim() || undefined, levels: parseLevelList(q.level, 'level'), environment: q.environment },
      page,
    );
    sendPage(req, res, page, result, serializeEvent);
  });

  // The whole event (lists cut big messages and stack traces and leave big tags/extra out).
  r.get('/:id/events/:event_pk', requireUser(access), async (req, res) => {
    const { id, event_pk } = EventIdParams.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    const row = await findEvent(ds, id, event_pk);
    if (!row) throw notFound('Event not found');
    res.json(serializeEvent(row));
  });
  return r;
}

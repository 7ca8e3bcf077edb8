import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { listEvents, serializeEvent } from '../../../domain/events/query.ts';
import { parseLevelList } from '../../../domain/logs/filters.ts';
import type { Access } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageRequest, sendPage } from '../../pagination.ts';
import { ProjectIdParam } from '../projects/schema.ts';
import { EventListQuery, ProjectEventParam } from './schema.ts';
import { projectEvent } from '../../../domain/issues/details.ts';

/** GET /api/projects/{id}/events/ and …/events/{event_id}/ — mounted under /api/projects. */
export function projectEventRoutes(ds: DataSource, access: Access): Router {
  const r = Router({ mergeParams: true });
  r.get('/:id/events', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    const q = EventListQuery.parse(req.query);
    const page = pageRequest(q);
    const result = await listEvents(
      ds,
      {
        projectId: id,
        kind: 'error',
        search: q.search?.trim() || undefined,
        levels: parseLevelList(q.level, 'level'),
        environment: q.environment,
      },
      page,
    );
    sendPage(req, res, page, result, serializeEvent);
  });

  // One event in full (lists cut big messages and stack traces and leave big tags/extra
  // out), structured data included; either kind, as an issue's events may be error logs.
  // By the client's event id, or by the numeric id the lists carry.
  r.get('/:id/events/:event_id', requireUser(access), async (req, res) => {
    const { id, event_id } = ProjectEventParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    res.json(await projectEvent(ds, id, event_id));
  });
  return r;
}

import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Access } from '../../../domain/access/index.ts';
import { badRequest } from '../../../domain/errors.ts';
import { filtersOut, loadInboundFilters, saveInboundFilters } from '../../../domain/outcomes/inboundFilters.ts';
import { bucketsOf, MAX_INTERVALS, outcomeStats } from '../../../domain/outcomes/stats.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { ProjectIdParam } from '../projects/schema.ts';
import { InboundFiltersBody, OutcomeStatsQuery } from './schema.ts';

const DEFAULT_SPAN = { hour: 24 * 3_600_000, day: 14 * 86_400_000 } as const;

/** /api/projects/{id}/stats/outcomes/ and /api/projects/{id}/inbound-filters/ — mounted under /api/projects. */
export function outcomeRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.get('/:id/stats/outcomes', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    const q = OutcomeStatsQuery.parse(req.query);
    const interval = q.interval === 'day' || q.interval === '1d' ? 'day' : 'hour';
    const until = q.until ? new Date(q.until) : new Date();
    const since = q.since ? new Date(q.since) : new Date(until.getTime() - DEFAULT_SPAN[interval]);
    if (since.getTime() >= until.getTime()) throw badRequest('`since` must be before `until`', { since: q.since, until: q.until });
    if (bucketsOf({ since, until, interval }).length > MAX_INTERVALS) {
      throw badRequest(`At most ${MAX_INTERVALS} intervals per query: narrow the range or use interval=day`, { interval });
    }
    res.json(await outcomeStats(ds, { projectId: id, since, until, interval, category: q.category, outcome: q.outcome }));
  });

  r.get('/:id/inbound-filters', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    res.json(filtersOut(id, await loadInboundFilters(ds, id)));
  });

  r.put('/:id/inbound-filters', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'edit_project');
    const change = InboundFiltersBody.parse(req.body ?? {});
    res.json(filtersOut(id, await saveInboundFilters(ds, id, change)));
  });
  return r;
}

import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { parseDateParam, parseLevelList, parseOrdering } from '../../../domain/logs/filters.ts';
import { listLlmLogs, serializeLlmLog } from '../../../domain/logs/llmQuery.ts';
import { listLogs, serializeEventLog } from '../../../domain/logs/query.ts';
import { readScope } from '../../../domain/logs/scope.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks, pageRequest } from '../../pagination.ts';
import { EventLogListQuery, LlmLogListQuery } from './schema.ts';

/** Seed 3's read side: `GET /api/event-logs/` and `GET /api/llm-logs/`, over every project the caller can see. */
export function dataideaReadRoutes(ds: DataSource): Router {
  const r = Router();

  r.get('/api/event-logs', requireUser(ds), async (req, res) => {
    const q = EventLogListQuery.parse(req.query);
    const scope = await readScope(ds, currentUser(req), q.project);
    const page = pageRequest(q);
    const to = parseDateParam(q.date_to, 'date_to');
    const filters = {
      levels: parseLevelList(q.level, 'level'),
      userRef: q.user_id || undefined,
      search: q.search?.trim() || undefined,
      field: q.search ? 'message' : undefined,
      dateFrom: parseDateParam(q.date_from, 'date_from')?.date,
      dateTo: to?.date,
      dateToExclusive: to?.wholeDay,
    };
    const result = await listLogs(ds, scope, filters, { order: parseOrdering(undefined), page, withExtra: true });
    res.json({ count: result.count, ...pageLinks(req, page, result), results: result.rows.map(serializeEventLog) });
  });

  r.get('/api/llm-logs', requireUser(ds), async (req, res) => {
    const q = LlmLogListQuery.parse(req.query);
    const scope = await readScope(ds, currentUser(req), q.project);
    const page = pageRequest(q);
    const to = parseDateParam(q.date_to, 'date_to');
    const result = await listLlmLogs(
      ds,
      scope,
      {
        source: q.source || undefined,
        model: q.model || undefined,
        userRef: q.user_id || undefined,
        search: q.search?.trim() || undefined,
        dateFrom: parseDateParam(q.date_from, 'date_from')?.date,
        dateTo: to?.date,
        dateToExclusive: to?.wholeDay,
      },
      page,
    );
    res.json({ count: result.count, ...pageLinks(req, page, result), results: result.rows.map(serializeLlmLog) });
  });

  return r;
}

import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { notFound } from '../../../domain/errors.ts';
import { parseDateParam, parseLevelList, parseOrdering } from '../../../domain/logs/filters.ts';
import { findLlmLog, listLlmLogs, serializeLlmLog } from '../../../domain/logs/llmQuery.ts';
import { findLog, listLogs, serializeEventLog } from '../../../domain/logs/query.ts';
import type { Access } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageRequest, sendPage } from '../../pagination.ts';
import { EventLogListQuery, LlmLogIdParam, LlmLogListQuery, LogIdParam } from './schema.ts';

/** DataIdea's read side: `GET /api/event-logs/` and `GET /api/llm-logs/` (and one of each by id), over every project the caller can see. */
export function dataideaReadRoutes(ds: DataSource, access: Access): Router {
  const r = Router();

  r.get('/api/event-logs', requireUser(access), async (req, res) => {
    const q = EventLogListQuery.parse(req.query);
    const scope = await access.scope(currentUser(req), q.project);
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
    sendPage(req, res, page, result, serializeEventLog);
  });

  // The whole log (a list cuts big messages and leaves big metadata out); same tenancy as the list.
  r.get('/api/event-logs/:id', requireUser(access), async (req, res) => {
    const { id } = LogIdParam.parse(req.params);
    const row = await findLog(ds, id, await access.scope(currentUser(req)));
    if (!row) throw notFound('Event log not found');
    res.json(serializeEventLog(row));
  });

  r.get('/api/llm-logs', requireUser(access), async (req, res) => {
    const q = LlmLogListQuery.parse(req.query);
    const scope = await access.scope(currentUser(req), q.project);
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
    sendPage(req, res, page, result, serializeLlmLog);
  });

  // The whole call: prompt, response and metadata as stored (lists cut them).
  r.get('/api/llm-logs/:id', requireUser(access), async (req, res) => {
    const { id } = LlmLogIdParam.parse(req.params);
    const row = await findLlmLog(ds, await access.scope(currentUser(req)), id);
    if (!row) throw notFound('LLM log not found');
    res.json(serializeLlmLog(row));
  });

  return r;
}

import { Router, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import { notFound } from '../../../domain/errors.ts';
import { exportLogsCsv } from '../../../domain/logs/export.ts';
import { parseDateParam, parseLevelList, parseOrdering, type LogFilters } from '../../../domain/logs/filters.ts';
import { deleteLog, findLog, listLogs, serializeLog, updateLog, type LogChanges, type LogRow } from '../../../domain/logs/query.ts';
import type { Access, ProjectAction } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageRequest, sendPage } from '../../pagination.ts';
import { LogFilterQuery, LogIdParam, LogListQuery, LogPatchBody, LogPutBody } from './schema.ts';

export interface LogRoutesDeps {
  ds: DataSource;
  access: Access;
}

export function logFilters(q: ReturnType<typeof LogFilterQuery.parse>): LogFilters {
  const from = parseDateParam(q.date_from, 'date_from');
  const to = parseDateParam(q.date_to, 'date_to');
  return {
    search: q.search?.trim() || undefined,
    field: q.field?.trim() || undefined,
    levels: parseLevelList(q.severity, 'severity'),
    source: q.source || undefined,
    environment: q.environment || q.env || undefined,
    dateFrom: from?.date,
    dateTo: to?.date,
    dateToExclusive: to?.wholeDay,
    archived: q.archived,
  };
}

/**
 * The logs dashboard's `/api/logs/` and central de erros' `/v1/api/logs/` (mounted at both): list,
 * CSV export, and one log's get/put/patch/delete (creating is an ingest route: src/api/routes/logs/ingest.ts). Reads see every project the caller
 * can see; writes need the member role; another project's log is 404.
 */
export function logRoutes(deps: LogRoutesDeps): Router {
  const { ds, access } = deps;
  const r = Router();
  r.use(requireUser(access));

  r.get('/', async (req, res) => {
    const q = LogListQuery.parse(req.query);
    const scope = await access.scope(currentUser(req), q.project);
    const page = pageRequest(q);
    const result = await listLogs(ds, scope, logFilters(q), { order: parseOrdering(q.ordering), page });
    sendPage(req, res, page, result, serializeLog);
  });

  r.get('/export', async (req, res) => {
    const q = LogFilterQuery.parse(req.query);
    const scope = await access.scope(currentUser(req), q.project);
    const filters = logFilters(q);
    const order = parseOrdering(q.ordering);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="logs-${stamp}.csv"`);
    try {
      await exportLogsCsv(ds, scope, filters, order, res);
    } catch (err) {
      // The reader went away: nothing to answer, and nothing went wrong on our side.
      if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' || res.destroyed) return;
      throw err;
    }
  });

  /** The log, if the caller may see its project (404 otherwise) and do `action` there (403 otherwise). */
  async function visibleLog(req: Request, action: ProjectAction): Promise<LogRow> {
    const { id } = LogIdParam.parse(req.params);
    return access.guard(currentUser(req), await findLog(ds, id), (l) => l.project_id, action, 'Log');
  }

  r.get('/:id', async (req, res) => {
    res.json(serializeLog(await visibleLog(req, 'view')));
  });

  const update = (schema: typeof LogPutBody | typeof LogPatchBody) => async (req: Request, res: Response) => {
    const row = await visibleLog(req, 'edit_data');
    const body = schema.parse(req.body ?? {});
    // Central de erros' "PATCH v1/api/logs/:id" archives the log: its clients send no body.
    if (schema === LogPatchBody && req.baseUrl.startsWith('/v1/') && Object.keys(body).length === 0) body.archived = true;
    const changes: LogChanges = {
      message: body.message,
      level: body.severity,
      service: body.source,
      environment: body.environment,
      timestamp: body.timestamp,
      archived: body.archived,
    };
    const updated = await updateLog(ds, row.id, changes);
    if (!updated) throw notFound('Log not found'); // deleted meanwhile
    res.json(serializeLog(updated));
  };
  r.put('/:id', update(LogPutBody));
  r.patch('/:id', update(LogPatchBody));

  r.delete('/:id', async (req, res) => {
    const row = await visibleLog(req, 'edit_data');
    await deleteLog(ds, row.id);
    res.status(204).end();
  });

  return r;
}

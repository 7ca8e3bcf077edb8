import { Router, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import { AppError, badRequest, notFound, payloadTooLarge, zodDetails } from '../../../domain/errors.ts';
import { exportLogsCsv } from '../../../domain/logs/export.ts';
import { parseDateParam, parseLevelList, parseOrdering, type LogFilters } from '../../../domain/logs/filters.ts';
import { userLogToRecord, UserLogSchema } from '../../../domain/logs/payloads.ts';
import { deleteLog, findLog, listLogs, serializeLog, updateLog, type LogChanges, type LogRow } from '../../../domain/logs/query.ts';
import { personalProject, readScope } from '../../../domain/logs/scope.ts';
import { requireProjectRole } from '../../../domain/projects/access.ts';
import { ingestedItems } from '../../../metrics.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageRequest, sendPage } from '../../pagination.ts';
import { LogFilterQuery, LogIdParam, LogListQuery, LogPatchBody, LogPutBody } from './schema.ts';

export interface LogRoutesDeps {
  ds: DataSource;
  producer: EventProducer;
  maxBatchItems: number;
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
 * Seed 2's `/api/logs/` and seed 5's `/v1/api/logs/` (mounted at both): list, create,
 * CSV export, and one log's get/put/patch/delete. Reads see every project the caller
 * can see; writes need the member role; another project's log is 404.
 */
export function logRoutes(deps: LogRoutesDeps): Router {
  const { ds } = deps;
  const r = Router();
  r.use(requireUser(ds));

  r.get('/', async (req, res) => {
    const q = LogListQuery.parse(req.query);
    const scope = await readScope(ds, currentUser(req), q.project);
    const page = pageRequest(q);
    const result = await listLogs(ds, scope, logFilters(q), { order: parseOrdering(q.ordering), page });
    sendPage(req, res, page, result, serializeLog);
  });

  r.post('/', async (req, res) => {
    const user = currentUser(req);
    deps.producer.assertCapacity();
    const batch = Array.isArray(req.body);
    const items: unknown[] = batch ? req.body : [req.body];
    if (items.length === 0) throw badRequest('Empty batch', 'Send one log object, or a non-empty array of them', 'empty_batch');
    if (items.length > deps.maxBatchItems) throw payloadTooLarge(`A batch holds at most ${deps.maxBatchItems} items`, { max_items: deps.maxBatchItems, items: items.length });
    const logs = items.map((item, i) => {
      const parsed = UserLogSchema.safeParse(item);
      if (!parsed.success) throw new AppError(400, 'validation_error', 'Invalid log', zodDetails(parsed.error.issues, batch ? [i] : []));
      return parsed.data;
    });
    let personal: number | undefined;
    const projectOf = async (p: number | null | undefined) => p ?? (personal ??= await personalProject(ds, user.id));
    const projects = await Promise.all(logs.map((l) => projectOf(l.project)));
    for (const id of new Set(projects)) await requireProjectRole(ds, user, id, 'member');

    const receivedAt = new Date().toISOString();
    const records = logs.map((l, i) => userLogToRecord(l, projects[i], receivedAt));
    await deps.producer.enqueue(records, Number(req.headers['content-length']) || 0);
    ingestedItems.inc({ kind: 'log' }, records.length);
    const out = records.map((rec) => ({
      event_id: rec.event_id,
      message: rec.message,
      severity: rec.level.toUpperCase(),
      source: rec.service,
      timestamp: rec.timestamp,
      environment: rec.environment,
      project: rec.project_id,
    }));
    res.status(202).json(batch ? out : out[0]);
  });

  r.get('/export', async (req, res) => {
    const q = LogFilterQuery.parse(req.query);
    const scope = await readScope(ds, currentUser(req), q.project);
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

  /** The log, if the caller may see its project (404 otherwise) and holds `role` there (403 otherwise). */
  async function visibleLog(req: Request, role: 'viewer' | 'member'): Promise<LogRow> {
    const { id } = LogIdParam.parse(req.params);
    const row = await findLog(ds, id);
    if (!row) throw notFound('Log not found');
    try {
      await requireProjectRole(ds, currentUser(req), row.project_id, role);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) throw notFound('Log not found');
      throw err;
    }
    return row;
  }

  r.get('/:id', async (req, res) => {
    res.json(serializeLog(await visibleLog(req, 'viewer')));
  });

  const update = (schema: typeof LogPutBody | typeof LogPatchBody) => async (req: Request, res: Response) => {
    const row = await visibleLog(req, 'member');
    const body = schema.parse(req.body ?? {});
    // Seed 5's "PATCH v1/api/logs/:id" archives the log: its clients send no body.
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
    const row = await visibleLog(req, 'member');
    await deleteLog(ds, row.id);
    res.status(204).end();
  });

  return r;
}

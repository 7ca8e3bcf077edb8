import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Access } from '../../../domain/access/index.ts';
import {
  checkInsOf,
  createMonitor,
  deleteMonitor,
  lastCheckIns,
  listMonitors,
  monitorFor,
  serializeCheckIn,
  serializeMonitor,
  updateMonitor,
} from '../../../domain/alerts/monitors.ts';
import { upsertMonitor } from '../../../domain/alerts/checkIns.ts';
import { parseOr400 } from '../../../domain/alerts/validation.ts';
import { notFound } from '../../../domain/errors.ts';
import { DEFAULT_PAGE_SIZE } from '../../../domain/pagination.ts';
import type { WorkSink } from '../../../domain/sinks.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks } from '../../pagination.ts';
import { parseJson, readBody } from '../../http/body.ts';
import { sendJson } from '../../http/send.ts';
import type { IngestRoute } from '../../ingest/runner.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import { MonitorBody, MonitorParams, MonitorPatch, PingBody, PlainPageQuery, ProjectParam, SlugParam } from './schema.ts';

/** /api/projects/{id}/monitors/: cron monitors and their check-ins (members and viewers read; admins and the owner change). */
export function monitorRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  // Per route, not r.use(): this router shares /api/projects with others, whose requests should not pay for it.
  const auth = requireUser(access);

  const withRuns = async (monitors: Awaited<ReturnType<typeof listMonitors>>) => {
    const runs = await lastCheckIns(
      ds,
      monitors.map((m) => m.id),
    );
    return monitors.map((m) => ({ ...serializeMonitor(m), last_checkins: (runs.get(m.id) ?? []).map(serializeCheckIn) }));
  };

  r.get('/:id/monitors', auth, async (req, res) => {
    const { id } = ProjectParam.parse(req.params);
    const results = await withRuns(await listMonitors(access, currentUser(req), id));
    res.json({ count: results.length, next: null, previous: null, results });
  });
  r.post('/:id/monitors', auth, async (req, res) => {
    const { id } = ProjectParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'manage_alerts');
    res.status(201).json(serializeMonitor(await createMonitor(access, currentUser(req), id, parseOr400(MonitorBody, req.body))));
  });
  r.get('/:id/monitors/:monitorId', auth, async (req, res) => {
    const { id, monitorId } = MonitorParams.parse(req.params);
    res.json((await withRuns([await monitorFor(access, currentUser(req), id, monitorId)]))[0]);
  });
  r.patch('/:id/monitors/:monitorId', auth, async (req, res) => {
    const { id, monitorId } = MonitorParams.parse(req.params);
    await monitorFor(access, currentUser(req), id, monitorId, 'manage_alerts');
    res.json(serializeMonitor(await updateMonitor(access, currentUser(req), id, monitorId, parseOr400(MonitorPatch, req.body ?? {}))));
  });
  r.delete('/:id/monitors/:monitorId', auth, async (req, res) => {
    const { id, monitorId } = MonitorParams.parse(req.params);
    await deleteMonitor(access, currentUser(req), id, monitorId);
    res.status(204).end();
  });
  r.get('/:id/monitors/:monitorId/check-ins', auth, async (req, res) => {
    const { id, monitorId } = MonitorParams.parse(req.params);
    const m = await monitorFor(access, currentUser(req), id, monitorId);
    const q = PlainPageQuery.parse(req.query);
    const page = { mode: 'page' as const, page: q.page ?? 1, pageSize: q.page_size ?? DEFAULT_PAGE_SIZE };
    const { count, rows } = await checkInsOf(ds, m.id, { limit: page.pageSize, offset: (page.page - 1) * page.pageSize });
    res.json({
      count,
      ...pageLinks(req, page, { hasMore: page.page * page.pageSize < count, nextCursor: null }),
      results: rows.map(serializeCheckIn),
    });
  });
  return r;
}

/** A ping is a few fields: 64 KB is plenty. */
const PING_MAX_BYTES = 64 * 1024;

/** The ping's JSON body (curl's `-d` without a JSON content type included); none, or not JSON, is `{}`. */
function pingJson(req: IncomingMessage, body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  if (!text) return {};
  const declared = /\bjson\b/i.test(req.headers['content-type'] ?? '');
  return declared || text.startsWith('{') ? parseJson(body) : {};
}

/**
 * POST /api/monitors/{slug}/check-ins/ — the plain HTTP ping for cron scripts, with a
 * project API key. Like ingest, 202 means durably queued (503 when Redis cannot take it).
 * A slug the project has no monitor for is 404 unless monitor_config creates it.
 */
export function monitorPingRoute(deps: {
  ds: DataSource;
  access: Access;
  sink: WorkSink;
  producer: Pick<EventProducer, 'assertCapacity'>;
}): IngestRoute<{ projectId: number; slug: string }> {
  return {
    name: '/api/monitors/{slug}/check-ins/',
    kind: 'check_in',
    methods: ['POST'],
    path: /^\/api\/monitors\/(?<slug>[^/]+)\/check-ins$/,
    headers: async (req, params) => {
      const key = await deps.access.apiKey(req, { scope: 'ingest' });
      const { slug } = parseOr400(SlugParam, params);
      deps.producer.assertCapacity();
      return { projectId: key.projectId, slug };
    },
    body: async (req, res, { projectId, slug }) => {
      const body = parseOr400(PingBody, pingJson(req, await readBody(req, PING_MAX_BYTES)));
      if (body.monitor_config) {
        // Created (or updated) now, not when the queued check-in is stored: the script's next ping must find it.
        await upsertMonitor(deps.ds, projectId, slug, body.monitor_config);
      } else {
        const [known] = await deps.ds.query(`SELECT 1 FROM monitors WHERE project_id = $1 AND slug = $2`, [projectId, slug]);
        if (!known) throw notFound(`No monitor "${slug}" in this project: create it, or send monitor_config`, 'monitor_not_found');
      }
      const checkInId = body.check_in_id ?? randomUUID().replaceAll('-', '');
      await deps.sink.enqueueCheckIns([
        {
          project_id: projectId,
          monitor_slug: slug,
          check_in_id: checkInId,
          status: body.status,
          duration_ms: body.duration === undefined ? null : body.duration * 1000,
          environment: body.environment ?? null,
          release: body.release ?? null,
          monitor_config: body.monitor_config ?? null,
          received_at: new Date().toISOString(),
          source: 'http',
        },
      ]);
      sendJson(res, 202, { check_in_id: checkInId, monitor: slug, status: body.status });
    },
  };
}

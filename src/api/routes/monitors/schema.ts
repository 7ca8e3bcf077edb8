import { z } from 'zod';
import { MONITOR_SLUG } from '../../../domain/alerts/checkInRecord.ts';
import { MonitorBodySchema, MonitorPatchSchema } from '../../../domain/alerts/monitors.ts';
import { MonitorConfigSchema, ScheduleSchema } from '../../../domain/alerts/schedule.ts';
import { MONITOR_STATUSES } from '../../../entities/Monitor.ts';
import { apiKeyAuth, bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';

const id = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);
export const ProjectParam = z.object({ id });
export const MonitorParams = z.object({ id, monitorId: id });
export const SlugParam = z.object({ slug: z.string().regex(MONITOR_SLUG, 'a monitor slug: lower-case letters, digits, - and _') });
export const PlainPageQuery = PageQuery.omit({ cursor: true });

export const MonitorBody = MonitorBodySchema.meta({
  id: 'MonitorRequest',
  example: {
    slug: 'nightly-report',
    schedule: { type: 'crontab', value: '0 2 * * *' },
    timezone: 'Europe/Berlin',
    checkin_margin: 5,
    max_runtime: 60,
  },
});
export const MonitorPatch = MonitorPatchSchema.meta({ id: 'MonitorPatch' });

/** The HTTP ping for cron scripts; monitor_config creates or updates the monitor, as Sentry's upsert does. */
export const PingBody = z
  .strictObject({
    status: z.enum(['in_progress', 'ok', 'error']).default('ok'),
    check_in_id: z
      .string()
      .regex(/^[\w-]{1,64}$/, 'letters, digits, - and _; at most 64')
      .optional()
      .meta({ description: 'The id an in_progress ping answered: send it again with ok/error to close that run' }),
    duration: z.number().min(0).max(1e9).optional().meta({ description: 'Seconds the run took (default: since its in_progress)' }),
    environment: z.string().max(100).optional(),
    release: z.string().max(200).optional(),
    monitor_config: MonitorConfigSchema.optional(),
  })
  .meta({ id: 'CheckInRequest', example: { status: 'ok', duration: 12.5 } });

export const MonitorOut = z
  .object({
    id: z.number().int(),
    project: z.number().int(),
    slug: z.string(),
    name: z.string(),
    schedule: ScheduleSchema,
    timezone: z.string(),
    checkin_margin: z.number().int(),
    max_runtime: z.number().int(),
    status: z.enum(MONITOR_STATUSES),
    enabled: z.boolean(),
    last_checkin_at: z.string().nullable(),
    next_expected_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Monitor' });
export const CheckInOut = z
  .object({
    id: z.string(),
    check_in_id: z.string(),
    status: z.enum(['in_progress', 'ok', 'error', 'missed', 'timeout']),
    source: z.enum(['sentry', 'http', 'schedule']),
    environment: z.string().nullable(),
    release: z.string().nullable(),
    duration_ms: z.number().nullable(),
    expected_at: z.string().nullable(),
    started_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .meta({ id: 'MonitorCheckIn' });
const MonitorWithRuns = MonitorOut.extend({ last_checkins: z.array(CheckInOut) }).meta({ id: 'MonitorWithRuns' });

const security = [{ [bearerAuth.name]: [] }];
const tags = ['cron monitors'];
const base = '/api/projects/{id}/monitors';
registry.registerPath({
  method: 'get',
  path: `${base}/`,
  tags,
  security,
  summary: 'Cron monitors with their last runs',
  request: { params: ProjectParam },
  responses: {
    200: jsonResponse(z.object({ count: z.number(), next: z.null(), previous: z.null(), results: z.array(MonitorWithRuns) }), 'Monitors'),
    ...errorResponses(401, 404),
  },
});
registry.registerPath({
  method: 'post',
  path: `${base}/`,
  tags,
  security,
  summary: 'Create a monitor (admin, owner)',
  request: { params: ProjectParam, body: jsonBody(MonitorBody) },
  responses: { 201: jsonResponse(MonitorOut, 'Created'), ...errorResponses(400, 401, 403, 404, 409) },
});
registry.registerPath({
  method: 'get',
  path: `${base}/{monitorId}/`,
  tags,
  security,
  summary: 'One monitor with its last runs',
  request: { params: MonitorParams },
  responses: { 200: jsonResponse(MonitorWithRuns, 'Monitor'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'patch',
  path: `${base}/{monitorId}/`,
  tags,
  security,
  summary: 'Change a monitor',
  request: { params: MonitorParams, body: jsonBody(MonitorPatch) },
  responses: { 200: jsonResponse(MonitorOut, 'Monitor'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'delete',
  path: `${base}/{monitorId}/`,
  tags,
  security,
  summary: 'Delete a monitor and its check-ins',
  request: { params: MonitorParams },
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: `${base}/{monitorId}/check-ins/`,
  tags,
  security,
  summary: 'Check-ins, newest first (reported runs, and missed and timed-out ones)',
  request: { params: MonitorParams, query: PlainPageQuery },
  responses: { 200: jsonResponse(paginated(CheckInOut, 'MonitorCheckInList'), 'Check-ins'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'post',
  path: '/api/monitors/{slug}/check-ins/',
  tags,
  security: [{ [apiKeyAuth.name]: [] }],
  summary: 'A cron script checks in (project API key with the ingest scope); 202 once durably queued',
  request: { params: SlugParam, body: { required: false, content: { 'application/json': { schema: PingBody } } } },
  responses: {
    202: jsonResponse(z.object({ check_in_id: z.string(), monitor: z.string(), status: z.string() }), 'Queued'),
    ...errorResponses(400, 401, 403, 404, 503),
  },
});

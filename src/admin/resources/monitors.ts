import { ValidationError, type ActionContext, type ActionRequest, type ParamsType, type ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { createMonitor, MonitorBodySchema, MonitorPatchSchema, updateMonitor } from '../../domain/alerts/monitors.ts';
import { INTERVAL_UNITS } from '../../domain/alerts/schedule.ts';
import { parseOr400 } from '../../domain/alerts/validation.ts';
import { Monitor, MONITOR_STATUSES } from '../../entities/Monitor.ts';
import { CHECKIN_STATUSES, MonitorCheckIn } from '../../entities/MonitorCheckIn.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import { asForm, int, may, mayNew, noBulkDelete, present, values } from './alertForms.ts';
import { actorOf, hidden, NAV, readOnly } from './common.ts';
import type { Access } from '../../domain/access/index.ts';

/** Cron monitors in the back-office, through the same domain services as /api/projects/{id}/monitors/. */

const MONITOR_FIELDS = {
  slug: 'slug',
  name: 'name',
  schedule: 'schedule',
  'schedule.type': 'scheduleType',
  timezone: 'timezone',
  checkin_margin: 'checkinMarginMinutes',
  max_runtime: 'maxRuntimeMinutes',
};

/** The form's schedule: a crontab in `schedule`, or "<n> <unit>" for an interval. */
function scheduleOf(type: unknown, text: unknown): unknown {
  const s = String(text ?? '').trim();
  if (type === 'interval') {
    const [n, unit] = s.split(/\s+/);
    return { type: 'interval', value: Number(n), unit: (unit ?? '').replace(/s$/, '') };
  }
  return { type: 'crontab', value: s };
}

class MonitorResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
  ) {
    super(Monitor, { scope: projectScope('r.projectId'), exact: ['slug', 'status'] });
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const projectId = Number(params.projectId);
    if (!Number.isSafeInteger(projectId) || projectId <= 0) throw new ValidationError({ projectId: { message: 'pick a project' } });
    const raw = Object.fromEntries(
      Object.entries({
        slug: params.slug,
        name: present(params.name) ? params.name : undefined,
        schedule: scheduleOf(params.scheduleType ?? 'crontab', params.schedule),
        timezone: present(params.timezone) ? params.timezone : undefined,
        checkin_margin: int(params.checkinMarginMinutes),
        max_runtime: int(params.maxRuntimeMinutes),
        enabled: params.enabled === undefined ? undefined : params.enabled === true || params.enabled === 'true',
      }).filter(([, v]) => v !== undefined),
    );
    return (await asForm(
      () => createMonitor(this.access, actorOf(context), projectId, parseOr400(MonitorBodySchema, raw)),
      MONITOR_FIELDS,
    )) as unknown as ParamsType;
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const m = await this.ds.getRepository(Monitor).findOneByOrFail({ id: Number(id) });
    const raw = Object.fromEntries(
      Object.entries({
        name: present(params.name) ? params.name : undefined,
        schedule: present(params.schedule) ? scheduleOf(params.scheduleType ?? m.scheduleType, params.schedule) : undefined,
        timezone: present(params.timezone) ? params.timezone : undefined,
        checkin_margin: int(params.checkinMarginMinutes),
        max_runtime: int(params.maxRuntimeMinutes),
        enabled: params.enabled === undefined ? undefined : params.enabled === true || params.enabled === 'true',
      }).filter(([, v]) => v !== undefined),
    );
    return (await asForm(
      () => updateMonitor(this.access, actorOf(context), m.projectId, m.id, parseOr400(MonitorPatchSchema, raw)),
      MONITOR_FIELDS,
    )) as unknown as ParamsType;
  }
}

export function monitorsResource(ds: DataSource, access: Access): ResourceWithOptions {
  return {
    resource: new MonitorResource(ds, access),
    options: {
      navigation: NAV.alerts,
      sort: { sortBy: 'id', direction: 'desc' },
      listProperties: ['id', 'slug', 'status', 'schedule', 'lastCheckinAt', 'nextExpectedAt', 'enabled', 'projectId'],
      filterProperties: ['projectId', 'slug', 'status', 'enabled'],
      showProperties: [
        'id',
        'projectId',
        'slug',
        'name',
        'status',
        'scheduleType',
        'schedule',
        'timezone',
        'checkinMarginMinutes',
        'maxRuntimeMinutes',
        'lastCheckinAt',
        'nextExpectedAt',
        'deadlineAt',
        'enabled',
        'createdAt',
      ],
      editProperties: [
        'projectId',
        'slug',
        'name',
        'scheduleType',
        'schedule',
        'timezone',
        'checkinMarginMinutes',
        'maxRuntimeMinutes',
        'enabled',
      ],
      properties: {
        slug: { isTitle: true },
        status: { availableValues: values(MONITOR_STATUSES), ...readOnly },
        scheduleType: { availableValues: values(['crontab', 'interval']) },
        schedule: { description: `A crontab ("0 2 * * *"), or for an interval "<n> <unit>" (${INTERVAL_UNITS.join(', ')})` },
        lastCheckinAt: readOnly,
        nextExpectedAt: readOnly,
        deadlineAt: readOnly,
        createdAt: readOnly,
        updatedAt: hidden,
      },
      actions: {
        new: { isAccessible: mayNew },
        edit: {
          isAccessible: may,
          before: async (request: ActionRequest) => {
            if (request.payload) {
              delete request.payload.projectId;
              delete request.payload.slug; // check-ins find a monitor by its slug
            }
            return request;
          },
        },
        delete: { isAccessible: may, guard: 'Delete this monitor and its check-ins?' },
        bulkDelete: noBulkDelete,
        runs: {
          actionType: 'record',
          icon: 'Clock',
          component: false,
          handler: async (_request: ActionRequest, _response: unknown, context: ActionContext) => ({
            record: context.record!.toJSON(context.currentAdmin),
            redirectUrl: `/admin/resources/MonitorCheckIn?filters.monitorId=${encodeURIComponent(String(context.record!.id()))}`,
          }),
        },
      },
    },
  };
}

export function monitorCheckInsResource(): ResourceWithOptions {
  return {
    resource: new ScopedResource(MonitorCheckIn, {
      scope: projectScope('r.projectId'),
      exact: ['status', 'source', 'checkInId', 'environment'],
    }),
    options: {
      navigation: NAV.alerts,
      sort: { sortBy: 'startedAt', direction: 'desc' },
      listProperties: ['id', 'monitorId', 'status', 'source', 'startedAt', 'durationMs', 'environment', 'expectedAt'],
      filterProperties: ['projectId', 'monitorId', 'status', 'source', 'environment', 'startedAt'],
      showProperties: [
        'id',
        'projectId',
        'monitorId',
        'checkInId',
        'status',
        'source',
        'environment',
        'release',
        'durationMs',
        'expectedAt',
        'startedAt',
        'finishedAt',
      ],
      properties: {
        status: { availableValues: values(CHECKIN_STATUSES) },
        source: { availableValues: values(['sentry', 'http', 'schedule']) },
      },
      actions: { new: { isAccessible: false }, edit: { isAccessible: false }, delete: { isAccessible: false }, bulkDelete: noBulkDelete },
    },
  };
}

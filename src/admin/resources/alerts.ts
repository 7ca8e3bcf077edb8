import {
  ValidationError,
  type ActionContext,
  type ActionRequest,
  type ParamsType,
  type RecordActionResponse,
  type ResourceWithOptions,
} from 'adminjs';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { CHANNEL_TYPES, AlertChannel } from '../../entities/AlertChannel.ts';
import { AlertDelivery } from '../../entities/AlertDelivery.ts';
import { AlertFiring, FIRING_STATUSES } from '../../entities/AlertFiring.ts';
import { AlertRule } from '../../entities/AlertRule.ts';
import {
  ChannelBodySchema,
  ChannelPatchSchema,
  createChannel,
  deleteChannel,
  RECIPIENT_ROLES,
  updateChannel,
} from '../../domain/alerts/channels.ts';
import { RuleBodySchema, RulePatchSchema, TRIGGERS } from '../../domain/alerts/definitions.ts';
import { sendTestNotification } from '../../domain/alerts/history.ts';
import { createRule, updateRule } from '../../domain/alerts/rules.ts';
import { parseOr400 } from '../../domain/alerts/validation.ts';
import type { QueueName } from '../../queues/contract.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import { arrayOf, asForm, int, json, may, mayNew, noBulkDelete, present, values } from './alertForms.ts';
import { actorOf, confirmed, hidden, NAV, readOnly, secretOnce, secretProperty, showOnly } from './common.ts';
import { alertJobs } from '../../queues/alertJobs.ts';
import type { Access } from '../../domain/access/index.ts';

/**
 * The alerts in the back-office: the same domain services as /api/projects/{id}/alert-*
 * and /monitors (validation, tenancy, sealing), so the admin cannot save what the API
 * would refuse. Lists and records are scoped to the admin's projects like every resource.
 */

const RULE_FIELDS = {
  params: 'paramsJson',
  filters: 'filtersJson',
  channels: 'channelIds',
  cooldown_minutes: 'cooldownMinutes',
  digest_minutes: 'digestMinutes',
  snoozed_until: 'snoozedUntil',
  trigger: 'trigger',
  name: 'name',
  enabled: 'enabled',
};

class AlertRuleResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
  ) {
    super(AlertRule, { scope: projectScope('r.projectId'), exact: ['trigger'] });
  }

  private body(params: Record<string, unknown>, partial: boolean) {
    const raw: Record<string, unknown> = {
      name: params.name,
      trigger: params.trigger,
      params: present(params.paramsJson) || !partial ? json(params.paramsJson, 'paramsJson') : undefined,
      filters: present(params.filtersJson) || !partial ? json(params.filtersJson, 'filtersJson') : undefined,
      channels: arrayOf(params, 'channelIds').map(Number),
      cooldown_minutes: int(params.cooldownMinutes),
      digest_minutes: int(params.digestMinutes),
      snoozed_until: present(params.snoozedUntil) ? new Date(String(params.snoozedUntil)).toISOString() : null,
      enabled: params.enabled === undefined ? undefined : params.enabled === true || params.enabled === 'true',
    };
    return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const projectId = Number(params.projectId);
    if (!Number.isSafeInteger(projectId) || projectId <= 0) throw new ValidationError({ projectId: { message: 'pick a project' } });
    const rule = await asForm(
      () => createRule(this.access, actorOf(context), projectId, parseOr400(RuleBodySchema, this.body(params, false))),
      RULE_FIELDS,
    );
    return rule as unknown as ParamsType;
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const current = await this.ds.getRepository(AlertRule).findOneByOrFail({ id: Number(id) });
    const rule = await asForm(
      () => updateRule(this.access, actorOf(context), current.projectId, current.id, parseOr400(RulePatchSchema, this.body(params, true))),
      RULE_FIELDS,
    );
    return rule as unknown as ParamsType;
  }
}

/** The edit form shows params and filters as JSON text. */
const withJsonText = async (response: RecordActionResponse) => {
  const p = response.record?.params as Record<string, unknown> | undefined;
  if (p) {
    const nested = (prefix: string) =>
      Object.fromEntries(
        Object.entries(p)
          .filter(([k]) => k.startsWith(`${prefix}.`))
          .map(([k, v]) => [k.slice(prefix.length + 1), v]),
      );
    p.paramsJson = JSON.stringify(nested('params'));
    p.filtersJson = JSON.stringify(nested('filters'));
  }
  return response;
};

export function alertRulesResource(ds: DataSource, access: Access): ResourceWithOptions {
  return {
    resource: new AlertRuleResource(ds, access),
    options: {
      navigation: NAV.alerts,
      sort: { sortBy: 'id', direction: 'desc' },
      listProperties: ['id', 'name', 'trigger', 'channelIds', 'enabled', 'snoozedUntil', 'projectId'],
      filterProperties: ['projectId', 'trigger', 'enabled', 'name'],
      showProperties: [
        'id',
        'projectId',
        'name',
        'trigger',
        'params',
        'filters',
        'channelIds',
        'cooldownMinutes',
        'digestMinutes',
        'snoozedUntil',
        'enabled',
        'createdById',
        'createdAt',
        'updatedAt',
      ],
      editProperties: [
        'projectId',
        'name',
        'trigger',
        'paramsJson',
        'filtersJson',
        'channelIds',
        'cooldownMinutes',
        'digestMinutes',
        'snoozedUntil',
        'enabled',
      ],
      properties: {
        name: { isTitle: true },
        trigger: { availableValues: values(TRIGGERS), isRequired: true },
        params: { ...showOnly, components: { show: Components.JsonBlock } },
        filters: { ...showOnly, components: { show: Components.JsonBlock } },
        paramsJson: {
          type: 'textarea',
          isVisible: { list: false, filter: false, show: false, edit: true },
          description:
            'JSON, by trigger: {"threshold": 50, "window_minutes": 5} (issue.frequency, events.threshold + "kind"), {"metric": "error_rate", …} (llm.threshold)',
        },
        filtersJson: {
          type: 'textarea',
          isVisible: { list: false, filter: false, show: false, edit: true },
          description: 'JSON: environments, min_level, release, tags ["key=value"], services, search',
        },
        channelIds: { type: 'number', description: 'Alert channel ids of the same project' },
        cooldownMinutes: { description: 'Quiet about the same issue / subject this long after a message' },
        digestMinutes: { description: '0: send each; N: one message per N minutes' },
        snoozedUntil: { description: 'Until then, firings are recorded and not sent' },
        createdById: readOnly,
        createdAt: readOnly,
        updatedAt: readOnly,
      },
      actions: {
        new: { isAccessible: mayNew },
        edit: {
          isAccessible: may,
          after: withJsonText,
          before: async (request: ActionRequest) => {
            if (request.payload) delete request.payload.projectId; // a rule stays in its project
            return request;
          },
        },
        delete: { isAccessible: may, guard: 'Delete this rule? Its firings go with it.' },
        bulkDelete: noBulkDelete,
      },
    },
  };
}

const CHANNEL_FIELDS = { url: 'url', addresses: 'addresses', roles: 'roles', type: 'type', name: 'name', rotate_secret: 'name' };

class AlertChannelResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
  ) {
    super(AlertChannel, { scope: projectScope('r.projectId'), exact: ['type'] });
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const projectId = Number(params.projectId);
    if (!Number.isSafeInteger(projectId) || projectId <= 0) throw new ValidationError({ projectId: { message: 'pick a project' } });
    const addresses = arrayOf(params, 'addresses');
    const roles = arrayOf(params, 'roles');
    const raw = {
      name: params.name,
      type: params.type,
      url: present(params.url) ? String(params.url) : undefined,
      addresses: addresses.length ? addresses : undefined,
      roles: roles.length ? roles : undefined,
      enabled: params.enabled === undefined ? undefined : params.enabled === true || params.enabled === 'true',
    };
    const { channel, secret } = await asForm(
      () => createChannel(this.access, actorOf(context), projectId, parseOr400(ChannelBodySchema, raw)),
      CHANNEL_FIELDS,
    );
    return { ...channel, sealed: undefined, ...(secret ? { __secret: secret } : {}) } as unknown as ParamsType;
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const current = await this.ds.getRepository(AlertChannel).findOneByOrFail({ id: Number(id) });
    const email = current.type === 'email';
    const addresses = arrayOf(params, 'addresses');
    const roles = arrayOf(params, 'roles');
    const raw = {
      name: params.name,
      url: !email && present(params.url) ? String(params.url) : undefined, // blank: keep the URL
      addresses: email ? (addresses.length ? addresses : null) : undefined,
      roles: email ? (roles.length ? roles : null) : undefined,
      enabled: params.enabled === undefined ? undefined : params.enabled === true || params.enabled === 'true',
    };
    const patch = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
    const { channel } = await asForm(
      () => updateChannel(this.access, actorOf(context), current.projectId, current.id, parseOr400(ChannelPatchSchema, patch)),
      CHANNEL_FIELDS,
    );
    return { ...channel, sealed: undefined } as unknown as ParamsType;
  }

  /** As DELETE on the API: rules stop naming it. */
  override async delete(id: string, context?: ActionContext): Promise<void> {
    const current = await this.ds.getRepository(AlertChannel).findOneByOrFail({ id: Number(id) });
    await asForm(() => deleteChannel(this.access, actorOf(context), current.projectId, current.id), {});
  }
}

export function alertChannelsResource(ds: DataSource, access: Access, queues: Record<QueueName, Queue>): ResourceWithOptions {
  const secret = secretOnce('AlertChannel');
  return {
    resource: new AlertChannelResource(ds, access),
    options: {
      navigation: NAV.alerts,
      sort: { sortBy: 'id', direction: 'desc' },
      listProperties: ['id', 'name', 'type', 'targetHint', 'enabled', 'projectId'],
      filterProperties: ['projectId', 'type', 'name', 'enabled'],
      showProperties: [
        'secret',
        'id',
        'projectId',
        'name',
        'type',
        'targetHint',
        'config',
        'enabled',
        'createdById',
        'createdAt',
        'updatedAt',
      ],
      editProperties: ['projectId', 'name', 'type', 'url', 'addresses', 'roles', 'enabled'],
      properties: {
        name: { isTitle: true },
        type: { availableValues: values(CHANNEL_TYPES), isRequired: true },
        targetHint: { ...readOnly, description: 'The target with its secret part masked: never shown in full again' },
        config: { ...showOnly, components: { show: Components.JsonBlock } },
        sealed: hidden,
        url: {
          type: 'string',
          isVisible: { list: false, filter: false, show: false, edit: true },
          description: 'webhook, Slack, Discord: where to POST (never shown again; leave blank when editing to keep it)',
        },
        addresses: {
          type: 'string',
          isArray: true,
          isVisible: { list: false, filter: false, show: false, edit: true },
          description: 'email: recipients',
        },
        roles: {
          type: 'string',
          isArray: true,
          availableValues: values(RECIPIENT_ROLES),
          isVisible: { list: false, filter: false, show: false, edit: true },
          description: 'email: also every member in these roles',
        },
        secret: {
          ...secretProperty,
          components: { show: Components.SecretOnce },
          description: 'The webhook signing secret, shown this once',
        },
        createdById: readOnly,
        createdAt: readOnly,
        updatedAt: readOnly,
      },
      actions: {
        new: { isAccessible: mayNew, after: secret.afterNew },
        show: { after: secret.afterShow },
        edit: {
          isAccessible: may,
          before: async (request: ActionRequest) => {
            if (request.payload) {
              delete request.payload.projectId;
              delete request.payload.type; // a channel keeps its kind
            }
            return request;
          },
        },
        delete: { isAccessible: may, guard: 'Delete this channel? Rules stop sending to it; its delivery log goes with it.' },
        bulkDelete: noBulkDelete,
        sendTest: {
          actionType: 'record',
          icon: 'Send',
          component: Components.Confirm,
          custom: { question: 'Send a test notification to this channel? It goes through the queue and the delivery log like a real one.' },
          isAccessible: may,
          handler: confirmed('record', async (context) => {
            const ch = context.record!;
            const f = await sendTestNotification(
              access,
              alertJobs(queues),
              actorOf(context),
              Number(ch.param('projectId')),
              Number(ch.id()),
            );
            return `Test notification queued (firing ${f.id}): see the delivery log`;
          }),
        },
        deliveryLog: {
          actionType: 'record',
          icon: 'List',
          component: false,
          handler: async (_request: ActionRequest, _response: unknown, context: ActionContext) => ({
            record: context.record!.toJSON(context.currentAdmin),
            redirectUrl: `/admin/resources/AlertDelivery?filters.channelId=${encodeURIComponent(String(context.record!.id()))}`,
          }),
        },
      },
    },
  };
}

export function alertFiringsResource(ds: DataSource): ResourceWithOptions {
  return {
    resource: new ScopedResource(AlertFiring, {
      scope: projectScope('r.projectId'),
      exact: ['trigger', 'kind', 'status', 'subject'],
      heavy: ['payload'],
    }),
    options: {
      navigation: NAV.alerts,
      sort: { sortBy: 'createdAt', direction: 'desc' },
      listProperties: ['id', 'ruleId', 'trigger', 'kind', 'status', 'value', 'createdAt', 'projectId'],
      filterProperties: ['projectId', 'ruleId', 'trigger', 'kind', 'status', 'createdAt'],
      showProperties: [
        'id',
        'projectId',
        'ruleId',
        'trigger',
        'triggerKey',
        'subject',
        'kind',
        'status',
        'windowStart',
        'windowEnd',
        'value',
        'threshold',
        'digestId',
        'payload',
        'createdAt',
      ],
      properties: {
        status: { availableValues: values(FIRING_STATUSES) },
        kind: { availableValues: values(['firing', 'recovered', 'test']) },
        payload: {
          ...showOnly,
          components: { show: Components.JsonBlock },
          description: 'What the message says (title, text, link, facts)',
        },
      },
      actions: {
        new: { isAccessible: false },
        edit: { isAccessible: false },
        delete: { isAccessible: false },
        bulkDelete: noBulkDelete,
        deliveries: {
          actionType: 'record',
          icon: 'List',
          component: false,
          handler: async (_request: ActionRequest, _response: unknown, context: ActionContext) => {
            const [n]: Array<{ id: string }> = await ds.query(
              `SELECT n.id FROM alert_notifications n JOIN alert_firings f ON f.id = $1 WHERE n.firing_id = f.id OR (n.digest_id IS NOT NULL AND n.digest_id = f.digest_id) ORDER BY n.id LIMIT 1`,
              [String(context.record!.id())],
            );
            return {
              record: context.record!.toJSON(context.currentAdmin),
              redirectUrl: n
                ? `/admin/resources/AlertDelivery?filters.notificationId=${n.id}`
                : `/admin/resources/AlertDelivery?filters.projectId=${context.record!.param('projectId')}`,
            };
          },
        },
      },
    },
  };
}

export function alertDeliveriesResource(): ResourceWithOptions {
  return {
    resource: new ScopedResource(AlertDelivery, { id: 'AlertDelivery', scope: projectScope('r.projectId'), exact: ['outcome'] }),
    options: {
      navigation: NAV.alerts,
      sort: { sortBy: 'startedAt', direction: 'desc' },
      listProperties: ['id', 'channelId', 'notificationId', 'attempt', 'startedAt', 'statusCode', 'latencyMs', 'outcome', 'error'],
      filterProperties: ['projectId', 'channelId', 'notificationId', 'outcome', 'statusCode', 'startedAt'],
      showProperties: [
        'id',
        'projectId',
        'channelId',
        'notificationId',
        'attempt',
        'startedAt',
        'statusCode',
        'latencyMs',
        'outcome',
        'error',
      ],
      properties: {
        outcome: { availableValues: values(['sent', 'retry', 'failed']) },
        error: { type: 'textarea' },
        notificationId: { type: 'number' },
      },
      actions: { new: { isAccessible: false }, edit: { isAccessible: false }, delete: { isAccessible: false }, bulkDelete: noBulkDelete },
    },
  };
}

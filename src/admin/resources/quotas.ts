import { ValidationError, type ActionContext, type ParamsType, type ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { saveOverrides, type Limits } from '../../domain/quotas/index.ts';
import { QuotaOverride } from '../../entities/QuotaOverride.ts';
import { mayAnywhere, mayIn } from '../auth.ts';
import { projectScope, ScopedResource } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { actorOf, domainCall, hidden, inProject, NAV, readOnly } from './common.ts';

const FIELDS: Array<[keyof Limits, string, number]> = [
  ['events_per_minute', 'eventsPerMinute', 2 ** 31 - 1],
  ['logs_per_minute', 'logsPerMinute', 2 ** 31 - 1],
  ['llm_logs_per_minute', 'llmLogsPerMinute', 2 ** 31 - 1],
  ['spans_per_minute', 'spansPerMinute', 2 ** 31 - 1],
  ['dump_bytes_per_day', 'dumpBytesPerDay', Number.MAX_SAFE_INTEGER],
];

/** The form's values as the domain's limits: empty inherits (null), a whole number ≥ 0 is a limit (0: none). */
function limitsOf(params: Record<string, unknown>): Limits {
  const out = {} as Record<keyof Limits, number | boolean | null>;
  for (const [field, prop, max] of FIELDS) {
    const raw = params[prop];
    if (raw === undefined || raw === null || raw === '') out[field] = null;
    else {
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < 0 || n > max)
        throw new ValidationError({ [prop]: { message: 'a whole number, 0 (no limit) or more; empty inherits' } });
      out[field] = n;
    }
  }
  const spike = params.spikeProtection;
  out.spike_protection = spike === undefined || spike === null || spike === '' ? null : spike === true || spike === 'true';
  return out as unknown as Limits;
}

const intOrNull = (v: unknown): number | null => (v === undefined || v === null || v === '' ? null : Number(v));

/**
 * Quota overrides (src/domain/quotas), written through the same domain function as
 * PUT /api/projects/{id}/quotas/. Web processes see a change within QUOTA_CACHE_TTL_MS.
 */
class QuotaOverrideResource extends ScopedResource {
  constructor(private readonly ds: DataSource) {
    super(QuotaOverride, { scope: projectScope('r.projectId'), exact: ['projectId', 'apiKeyId'] });
  }

  private async save(
    projectId: number,
    keyId: number | null,
    params: Record<string, unknown>,
    context?: ActionContext,
  ): Promise<ParamsType> {
    if (!mayIn(actorOf(context), projectId, 'manage_quotas'))
      throw new ValidationError({ projectId: { message: 'you may not change this project’s quotas' } });
    await domainCall(() => saveOverrides(this.ds, projectId, keyId, limitsOf(params)), 'apiKeyId');
    const [row] = await this.ds.query(`SELECT id FROM quota_overrides WHERE project_id = $1 AND coalesce(api_key_id, 0) = $2`, [
      projectId,
      keyId ?? 0,
    ]);
    return (await QuotaOverride.findOneByOrFail({ id: row.id })) as unknown as ParamsType;
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const projectId = intOrNull(params.projectId);
    if (projectId === null || !Number.isSafeInteger(projectId) || projectId <= 0)
      throw new ValidationError({ projectId: { message: 'pick a project' } });
    return this.save(projectId, intOrNull(params.apiKeyId), params, context);
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const row = await QuotaOverride.findOneByOrFail({ id: Number(id) });
    return this.save(row.projectId, row.apiKeyId, { ...(row as unknown as Record<string, unknown>), ...params }, context);
  }
}

export function quotaOverridesResource(ds: DataSource): ResourceWithOptions {
  const limitProps = FIELDS.map(([, prop]) => prop);
  return {
    resource: new QuotaOverrideResource(ds),
    options: {
      id: 'QuotaOverride',
      navigation: NAV.projects,
      listProperties: ['projectId', 'apiKeyId', ...limitProps, 'spikeProtection', 'updatedAt'],
      filterProperties: ['projectId', 'apiKeyId'],
      showProperties: ['id', 'projectId', 'apiKeyId', ...limitProps, 'spikeProtection', 'updatedAt'],
      editProperties: ['projectId', 'apiKeyId', ...limitProps, 'spikeProtection'],
      properties: {
        projectId: { isRequired: true, description: 'The project these limits are for' },
        apiKeyId: { description: "Empty: the project's own limits (all its keys together); a key: that key's limits on top" },
        eventsPerMinute: {
          type: 'number',
          description: 'Error events per minute; empty inherits (the instance default, QUOTA_EVENTS_PER_MINUTE), 0 no limit',
        },
        logsPerMinute: { type: 'number', description: 'Log events per minute' },
        llmLogsPerMinute: { type: 'number', description: 'LLM logs per minute' },
        spansPerMinute: { type: 'number', description: 'Spans per minute' },
        dumpBytesPerDay: { type: 'number', description: 'Crash dump, minidump and attachment bytes per day' },
        spikeProtection: {
          availableValues: [
            { value: 'true', label: 'on' },
            { value: 'false', label: 'off' },
          ],
          description: 'Empty inherits (QUOTA_SPIKE_PROTECTION); project rows only: spike protection is per project',
        },
        updatedAt: readOnly,
        id: { isVisible: { list: false, filter: false, show: true, edit: false } },
        project: hidden,
        apiKey: hidden,
      },
      actions: {
        new: { isAccessible: ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser, 'manage_quotas') },
        edit: {
          isAccessible: inProject('manage_quotas'),
          before: async (request: { payload?: Record<string, unknown> }) => {
            if (request.payload) {
              delete request.payload.projectId; // a row never moves to another scope
              delete request.payload.apiKeyId;
            }
            return request as never;
          },
        },
        delete: { isAccessible: inProject('manage_quotas'), guard: 'Remove these overrides? The defaults apply again.' },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}

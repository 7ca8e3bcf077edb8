import { ValidationError, type ActionContext, type ParamsType, type ResourceWithOptions } from 'adminjs';
import type { Access } from '../../domain/access/index.ts';
import { RULE_ACTIONS, RULE_KINDS, type RuleAction, type RuleKind } from '../../domain/scrubbing/rules.ts';
import { ScrubbingService, type ScrubbingRuleOut } from '../../domain/scrubbing/service.ts';
import { ScrubbingRule } from '../../entities/ScrubbingRule.ts';
import { mayAnywhere, mayIn } from '../auth.ts';
import { projectScope, ScopedResource } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { actorOf, domainCall, NAV, readOnly } from './common.ts';

const toParams = (r: ScrubbingRuleOut) =>
  ({
    id: r.id,
    projectId: r.project,
    kind: r.kind,
    pattern: r.pattern,
    action: r.action,
    description: r.description,
    enabled: r.enabled,
  }) as unknown as ParamsType;

const text = (v: unknown) => (v === undefined || v === null || v === '' ? null : String(v));
const flag = (v: unknown) => (v === undefined ? undefined : v === true || v === 'true');

/** A project's scrubbing rules, through the same service (and checks) as /api/projects/{id}/scrubbing-rules/. */
class ScrubbingRuleResource extends ScopedResource {
  private readonly service: ScrubbingService;
  constructor(access: Access) {
    super(ScrubbingRule, { scope: projectScope('r.projectId'), exact: ['kind'] });
    this.service = new ScrubbingService(access);
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const project = Number(params.projectId);
    if (!Number.isSafeInteger(project) || project <= 0) throw new ValidationError({ projectId: { message: 'pick a project' } });
    const created = await domainCall(
      () =>
        this.service.create(actorOf(context), project, {
          kind: String(params.kind) as RuleKind,
          pattern: text(params.pattern),
          action: text(params.action) as RuleAction | null,
          description: text(params.description) ?? '',
          enabled: flag(params.enabled) ?? true,
        }),
      'pattern',
    );
    return toParams(created);
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const [row] = await ScrubbingRule.findBy({ id: Number(id) });
    if (!row) throw new ValidationError({}, { message: 'Scrubbing rule not found' });
    const updated = await domainCall(
      () =>
        this.service.update(actorOf(context), row.projectId, row.id, {
          kind: params.kind === undefined ? undefined : (String(params.kind) as RuleKind),
          pattern: params.pattern === undefined ? undefined : text(params.pattern),
          action: params.action === undefined ? undefined : (text(params.action) as RuleAction | null),
          description: params.description === undefined ? undefined : String(params.description ?? ''),
          enabled: flag(params.enabled),
        }),
      'pattern',
    );
    return toParams(updated);
  }

  override async delete(id: string, context?: ActionContext): Promise<void> {
    const [row] = await ScrubbingRule.findBy({ id: Number(id) });
    if (!row) return;
    await domainCall(() => this.service.remove(actorOf(context), row.projectId, row.id));
  }
}

const mayChange = ({ currentAdmin, record }: { currentAdmin?: unknown; record?: { param(k: string): unknown } }) =>
  mayIn(currentAdmin as AdminUser | undefined, record?.param('projectId'), 'edit_project');

export function scrubbingRulesResource(access: Access): ResourceWithOptions {
  const choices = (values: readonly string[]) => values.map((v) => ({ value: v, label: v }));
  return {
    resource: new ScrubbingRuleResource(access),
    options: {
      id: 'ScrubbingRule',
      navigation: NAV.projects,
      sort: { sortBy: 'id', direction: 'asc' },
      listProperties: ['projectId', 'kind', 'pattern', 'action', 'enabled', 'description'],
      filterProperties: ['projectId', 'kind', 'enabled'],
      showProperties: ['id', 'projectId', 'kind', 'pattern', 'action', 'enabled', 'description', 'createdAt', 'updatedAt'],
      editProperties: ['projectId', 'kind', 'pattern', 'action', 'enabled', 'description'],
      properties: {
        kind: {
          availableValues: choices(RULE_KINDS),
          isRequired: true,
          description:
            'email, ip, phone, regex (RE2), key (a key name or a path glob like extra.customer.*), exempt (a key or path left unscrubbed)',
        },
        pattern: { description: 'regex: the pattern; key/exempt: key name or path glob; phone: a default country (US); email/ip: empty' },
        action: {
          availableValues: choices(RULE_ACTIONS),
          description: 'mask (****, [Filtered]), hash (keyed, stable), remove; empty for exempt',
        },
        projectId: { description: 'The project (its admins and owner manage its rules). The default rules always apply.' },
        createdAt: readOnly,
        updatedAt: readOnly,
        id: { isVisible: { list: false, filter: false, show: true, edit: false } },
        project: { isVisible: false },
      },
      actions: {
        new: { isAccessible: ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser, 'edit_project') },
        edit: {
          isAccessible: mayChange,
          before: async (request: { payload?: Record<string, unknown> }) => {
            if (request.payload) delete request.payload.projectId; // a rule never moves to another project
            return request as never;
          },
        },
        delete: { isAccessible: mayChange, guard: 'Remove this scrubbing rule? Items stored from now on are no longer scrubbed by it.' },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}

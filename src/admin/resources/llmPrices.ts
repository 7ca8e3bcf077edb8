import { ValidationError, type ActionContext, type ParamsType, type ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import type { Access } from '../../domain/access/index.ts';
import { PriceService } from '../../domain/llm/prices.ts';
import { LlmPrice } from '../../entities/LlmPrice.ts';
import { mayAnywhere, mayIn } from '../auth.ts';
import { projectScope, ScopedResource, type Condition } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { actorOf, domainCall, hidden, NAV, readOnly } from './common.ts';

/** Instance-wide prices are everyone's to read; a project's, its members'. */
function priceScope(admin: AdminUser | undefined): Condition {
  const projects = projectScope('r.projectId')(admin);
  return projects ? { sql: `(r.projectId IS NULL OR ${projects.sql})`, params: projects.params } : null;
}

function money(params: Record<string, unknown>, name: string, required: boolean): number | null | undefined {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === '') {
    if (required) throw new ValidationError({ [name]: { message: 'required: US dollars per million tokens' } });
    return raw === undefined ? undefined : null;
  }
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1_000_000)
    throw new ValidationError({ [name]: { message: 'a number of US dollars per million tokens, 0 or more' } });
  return n;
}

const toParams = (p: {
  id: number | null;
  project: number | null;
  model: string;
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million: number | null;
}) =>
  ({
    id: p.id,
    projectId: p.project,
    model: p.model,
    inputPerMillion: p.input_per_million,
    outputPerMillion: p.output_per_million,
    cachedInputPerMillion: p.cached_input_per_million,
  }) as unknown as ParamsType;

/** Overrides of the LLM price table, through the same service (and rules) as /api/llm-prices/. */
class LlmPriceResource extends ScopedResource {
  private readonly prices: PriceService;
  constructor(ds: DataSource, access: Access) {
    super(LlmPrice, { scope: priceScope, exact: ['model'] });
    this.prices = new PriceService(access);
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const project =
      params.projectId === undefined || params.projectId === '' || params.projectId === null ? null : Number(params.projectId);
    if (project !== null && (!Number.isSafeInteger(project) || project <= 0))
      throw new ValidationError({ projectId: { message: 'pick a project, or none for every project' } });
    const model = String(params.model ?? '').trim();
    if (!model || model.length > 200)
      throw new ValidationError({ model: { message: 'a model name or pattern (with *), at most 200 characters' } });
    const created = await domainCall(
      () =>
        this.prices.create(actorOf(context), {
          project,
          model,
          input_per_million: money(params, 'inputPerMillion', true)!,
          output_per_million: money(params, 'outputPerMillion', true)!,
          cached_input_per_million: money(params, 'cachedInputPerMillion', false) ?? null,
        }),
      'model',
    );
    return toParams(created);
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const model = params.model === undefined ? undefined : String(params.model).trim();
    const updated = await domainCall(
      () =>
        this.prices.update(actorOf(context), Number(id), {
          model: model || undefined,
          input_per_million: money(params, 'inputPerMillion', false) ?? undefined,
          output_per_million: money(params, 'outputPerMillion', false) ?? undefined,
          cached_input_per_million: money(params, 'cachedInputPerMillion', false),
        }),
      'model',
    );
    return toParams(updated);
  }

  override async delete(id: string, context?: ActionContext): Promise<void> {
    await domainCall(() => this.prices.remove(actorOf(context), Number(id)));
  }
}

/** Instance rows: staff; project rows: the project's admins and owner. */
const mayChange = ({ currentAdmin, record }: { currentAdmin?: unknown; record?: { param(k: string): unknown } }) => {
  const admin = currentAdmin as AdminUser | undefined;
  const project = record?.param('projectId');
  if (project === null || project === undefined || project === '') return Boolean(admin?.isStaff);
  return mayIn(admin, project, 'edit_project');
};

export function llmPricesResource(ds: DataSource, access: Access): ResourceWithOptions {
  return {
    resource: new LlmPriceResource(ds, access),
    options: {
      id: 'LlmPrice',
      navigation: NAV.data,
      sort: { sortBy: 'model', direction: 'asc' },
      listProperties: ['model', 'projectId', 'inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion', 'updatedAt'],
      filterProperties: ['projectId', 'model'],
      showProperties: [
        'id',
        'model',
        'projectId',
        'inputPerMillion',
        'outputPerMillion',
        'cachedInputPerMillion',
        'createdAt',
        'updatedAt',
      ],
      editProperties: ['projectId', 'model', 'inputPerMillion', 'outputPerMillion', 'cachedInputPerMillion'],
      properties: {
        model: {
          isTitle: true,
          isRequired: true,
          description:
            'A model name, or a pattern with * (e.g. gpt-4o*). Overrides the built-in price (GET /api/llm-prices/ lists them) for calls stored from now on.',
        },
        projectId: { description: 'The project this price is for; empty: every project without its own (staff only)' },
        inputPerMillion: { type: 'number', isRequired: true, description: 'US dollars per million input tokens' },
        outputPerMillion: { type: 'number', isRequired: true, description: 'US dollars per million output tokens' },
        cachedInputPerMillion: { type: 'number', description: 'US dollars per million cached input tokens (empty: as input)' },
        createdAt: readOnly,
        updatedAt: readOnly,
        id: { isVisible: { list: false, filter: false, show: true, edit: false } },
        project: hidden,
      },
      actions: {
        new: { isAccessible: ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser, 'edit_project') },
        edit: {
          isAccessible: mayChange,
          before: async (request: { payload?: Record<string, unknown> }) => {
            if (request.payload) delete request.payload.projectId; // a price never moves to another layer
            return request as never;
          },
        },
        delete: { isAccessible: mayChange, guard: 'Remove this price? The next layer (instance-wide, or built-in) applies again.' },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}

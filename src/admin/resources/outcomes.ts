import { ValidationError, type ActionContext, type ParamsType, type ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { CATEGORIES, OUTCOMES } from '../../domain/outcomes/categories.ts';
import { PATTERN_LIMITS, saveInboundFilters, splitPatterns } from '../../domain/outcomes/inboundFilters.ts';
import type { InboundFilterSettings } from '../../domain/outcomes/filters.ts';
import { InboundFilter } from '../../entities/InboundFilter.ts';
import { Outcome } from '../../entities/Outcome.ts';
import { mayAnywhere, mayIn } from '../auth.ts';
import { projectScope, ScopedResource } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { actorOf, hidden, NAV, readOnly } from './common.ts';

const values = (list: readonly string[]) => list.map((v) => ({ value: v, label: v }));
const none = { isAccessible: false };

/**
 * "Dropped data": the outcomes table, read-only — per project, hour, data category,
 * outcome and reason, as GET /api/projects/{id}/stats/outcomes/ sums it.
 */
export function outcomesResource(): ResourceWithOptions {
  return {
    resource: new ScopedResource(Outcome, {
      id: 'DroppedData',
      scope: projectScope('r.projectId'),
      exact: ['category', 'outcome', 'reason'],
    }),
    options: {
      id: 'DroppedData',
      navigation: NAV.data,
      sort: { sortBy: 'hour', direction: 'desc' },
      listProperties: ['hour', 'projectId', 'category', 'outcome', 'reason', 'quantity'],
      filterProperties: ['projectId', 'outcome', 'category', 'reason', 'hour'],
      showProperties: ['hour', 'projectId', 'category', 'outcome', 'reason', 'keyId', 'quantity', 'updatedAt'],
      properties: {
        outcome: {
          availableValues: values(OUTCOMES),
          description: 'What happened: filtered, rate limited, invalid, discarded by the client (accepted: taken in)',
        },
        category: { availableValues: values(CATEGORIES) },
        reason: { description: 'Why: a filter id, a client report reason, unsupported_item:<type>, an error code' },
        keyId: { description: 'The API key the data came with (0: unknown)' },
        quantity: { type: 'number', description: 'Items in that hour (bytes for *_byte categories)' },
        id: hidden,
        project: hidden,
      },
      actions: { new: none, edit: none, delete: none, bulkDelete: none },
    },
  };
}

const FLAGS = ['legacyBrowsers', 'webCrawlers', 'browserExtensions', 'localhost'] as const;
const flag = (v: unknown) => v === true || v === 'true';

function patterns(params: Record<string, unknown>, name: string): string[] | undefined {
  if (params[name] === undefined) return undefined;
  const list = splitPatterns(String(params[name] ?? ''));
  if (list.length > PATTERN_LIMITS.count || list.some((p) => p.length > PATTERN_LIMITS.chars)) {
    throw new ValidationError({
      [name]: { message: `at most ${PATTERN_LIMITS.count} patterns of at most ${PATTERN_LIMITS.chars} characters, one per line` },
    });
  }
  return list;
}

function changeOf(params: Record<string, unknown>): Partial<InboundFilterSettings> {
  const change: Partial<InboundFilterSettings> = {};
  if (params.legacyBrowsers !== undefined) change.legacy_browsers = flag(params.legacyBrowsers);
  if (params.webCrawlers !== undefined) change.web_crawlers = flag(params.webCrawlers);
  if (params.browserExtensions !== undefined) change.browser_extensions = flag(params.browserExtensions);
  if (params.localhost !== undefined) change.localhost = flag(params.localhost);
  const messages = patterns(params, 'errorMessages');
  if (messages) change.error_messages = messages;
  const releases = patterns(params, 'releases');
  if (releases) change.releases = releases;
  return change;
}

/** A project's inbound filters, changed through the same service as PUT /api/projects/{id}/inbound-filters/. */
class InboundFilterResource extends ScopedResource {
  constructor(private readonly ds: DataSource) {
    super(InboundFilter, { id: 'InboundFilter', scope: projectScope('r.projectId') });
  }

  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const project = Number(params.projectId);
    if (!Number.isSafeInteger(project) || project <= 0) throw new ValidationError({ projectId: { message: 'pick a project' } });
    if (!mayIn(actorOf(context), project, 'edit_project'))
      throw new ValidationError({ projectId: { message: "you may not change this project's filters" } });
    await saveInboundFilters(this.ds, project, changeOf(params));
    return this.paramsOf(String(project));
  }

  override async update(id: string, params: Record<string, unknown>): Promise<ParamsType> {
    await saveInboundFilters(this.ds, Number(id), changeOf(params));
    return this.paramsOf(id);
  }
}

const mayChange = ({ currentAdmin, record }: { currentAdmin?: unknown; record?: { param(k: string): unknown } }) =>
  Boolean(record) && mayIn(currentAdmin as AdminUser, record!.param('projectId'), 'edit_project');

export function inboundFiltersResource(ds: DataSource): ResourceWithOptions {
  return {
    resource: new InboundFilterResource(ds),
    options: {
      id: 'InboundFilter',
      navigation: NAV.projects,
      listProperties: ['projectId', ...FLAGS, 'updatedAt'],
      filterProperties: ['projectId'],
      showProperties: ['projectId', ...FLAGS, 'errorMessages', 'releases', 'updatedAt'],
      editProperties: ['projectId', ...FLAGS, 'errorMessages', 'releases'],
      properties: {
        projectId: { isTitle: true, description: 'A project without filters here has every filter off' },
        legacyBrowsers: {
          type: 'boolean',
          description:
            'Internet Explorer ≤ 11, Edge < 79, Opera < 15, Opera Mini < 8, the stock Android browser before Android 4, Safari < 6',
        },
        webCrawlers: { type: 'boolean', description: 'User agents of known bots and crawlers' },
        browserExtensions: { type: 'boolean', description: "Errors from browser extensions and injected scripts (Sentry's list)" },
        localhost: { type: 'boolean', description: 'Events from 127.0.0.1 / ::1, a localhost URL or server name' },
        errorMessages: {
          type: 'textarea',
          description: 'One glob per line (* any run, case-insensitive), matched against "Type: value" and the message',
        },
        releases: { type: 'textarea', description: 'One glob per line, matched against the release' },
        updatedAt: readOnly,
        project: hidden,
      },
      actions: {
        new: { isAccessible: ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser, 'edit_project') },
        edit: {
          isAccessible: mayChange,
          before: async (request: { payload?: Record<string, unknown> }) => {
            if (request.payload) delete request.payload.projectId; // filters never move to another project
            return request as never;
          },
        },
        delete: none,
        bulkDelete: none,
      },
    },
  };
}

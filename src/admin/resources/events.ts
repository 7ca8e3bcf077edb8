import type { ActionContext, ActionRequest, ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { LEVELS } from '../../domain/levels.ts';
import { Event } from '../../entities/Event.ts';
import { mayAnywhere } from '../auth.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { confirmed, hidden, inProject, NAV, readOnly, showOnly } from './common.ts';

const levels = LEVELS.map((l) => ({ value: l, label: l }));
const KINDS = [
  { value: 'error', label: 'error' },
  { value: 'log', label: 'log' },
];

async function archive(ds: DataSource, ids: string[], archived: boolean): Promise<number> {
  const [, n]: [unknown, number] = await ds.query(
    `UPDATE events SET archived = $2, updated_at = now() WHERE id = ANY($1::bigint[]) AND archived <> $2`,
    [ids, archived],
  );
  return n;
}

/**
 * Errors and logs share the events table. "Events" shows both, filterable by kind and
 * opening on errors; "Logs" is the kind = 'log' view. Lists are newest first on the
 * (project, kind, timestamp) and log indexes; filters on level, environment, service and
 * origin are exact matches, message a trigram-indexed substring search.
 */
function eventResource(ds: DataSource, kind: 'all' | 'log'): ResourceWithOptions {
  const id = kind === 'log' ? 'Log' : 'Event';
  const resource = new ScopedResource(Event, {
    id,
    scope: projectScope('r.projectId'),
    fixed: kind === 'log' ? "r.kind = 'log'" : undefined,
    exact: ['level', 'kind', 'environment', 'service', 'origin', 'eventId', 'userRef', 'eventType', 'traceId'],
    editable: ['archived', 'level', 'message', 'environment', 'service'],
    heavy: ['stacktrace', 'tags', 'extra', 'message', 'data'],
    excerpt: ['message'],
  });
  const mayEdit = inProject('edit_data');
  // Bulk actions are checked record by record; without a record (the list's buttons): may edit data somewhere.
  const mayEditEach = (c: Parameters<typeof mayEdit>[0]) => (c.record ? mayEdit(c) : mayAnywhere(c.currentAdmin as AdminUser, 'edit_data'));
  const ids = (context: ActionContext) => (context.records ?? (context.record ? [context.record] : [])).map((r) => String(r.id()));
  return {
    resource,
    options: {
      id,
      navigation: NAV.data,
      sort: { sortBy: 'timestamp', direction: 'desc' },
      listProperties:
        kind === 'log'
          ? ['id', 'timestamp', 'level', 'service', 'message', 'environment', 'projectId', 'archived']
          : ['id', 'timestamp', 'kind', 'level', 'exceptionType', 'message', 'environment', 'projectId', 'archived'],
      filterProperties: [
        'projectId',
        ...(kind === 'log' ? [] : ['kind']),
        'level',
        'environment',
        'service',
        'message',
        'exceptionType',
        'timestamp',
        'archived',
        'origin',
        'userRef',
        'eventId',
        'traceId',
      ],
      showProperties: [
        'id',
        'eventId',
        'projectId',
        'kind',
        'level',
        'timestamp',
        'receivedAt',
        'exceptionType',
        'message',
        'stacktrace',
        'environment',
        'service',
        'userRef',
        'eventType',
        'origin',
        'release',
        'traceId',
        'spanId',
        'archived',
        'scrubbed',
        'tags',
        'extra',
        'data',
      ],
      editProperties: ['level', 'message', 'environment', 'service', 'archived'],
      properties: {
        message: { isTitle: true, type: 'textarea', components: { list: Components.Excerpt } },
        level: { availableValues: levels, components: { list: Components.LevelBadge, show: Components.LevelBadge } },
        kind: { availableValues: KINDS, isVisible: { list: kind !== 'log', filter: kind !== 'log', show: true, edit: false } },
        stacktrace: { ...showOnly, components: { show: Components.CodeBlock } },
        tags: { ...showOnly, components: { show: Components.JsonBlock } },
        extra: { ...showOnly, components: { show: Components.JsonBlock } },
        // The structured event (exception chain, frames, breadcrumbs, contexts); issues render it on their page.
        data: { ...showOnly, components: { show: Components.JsonBlock } },
        scrubbed: {
          ...showOnly,
          components: { show: Components.JsonBlock },
          description: 'What scrubbing took out before storage: each field path and the rule (default:… or a project rule kind#id)',
        },
        release: readOnly,
        service: { description: kind === 'log' ? 'Source' : 'Service' },
        eventId: readOnly,
        traceId: {
          ...readOnly,
          description: 'The trace it happened in: opens the trace page',
          components: { show: Components.TraceLink, list: Components.TraceLink },
        },
        spanId: readOnly,
        receivedAt: readOnly,
        updatedAt: hidden,
        projectId: readOnly,
      },
      actions: {
        list: {
          // Events open on errors (the kind filter shows it and can change it).
          before: async (request: ActionRequest) => {
            if (kind === 'all' && request.query && !Object.keys(request.query).some((k) => k.startsWith('filters.kind'))) {
              request.query = { ...request.query, 'filters.kind': 'error' };
            }
            return request;
          },
        },
        new: { isAccessible: false },
        edit: { isAccessible: mayEdit },
        delete: { isAccessible: mayEdit, guard: 'Delete this event for good?' },
        bulkDelete: { isAccessible: mayEditEach },
        archive: {
          actionType: 'record',
          icon: 'Archive',
          component: Components.Confirm,
          custom: { question: 'Archive this event? It stays searchable with the archived filter.' },
          isAccessible: (c: Parameters<typeof mayEdit>[0]) => mayEdit(c) && !c.record?.param('archived'),
          handler: confirmed('record', async (context) => `${await archive(ds, ids(context), true)} archived`),
        },
        bulkArchive: {
          actionType: 'bulk',
          icon: 'Archive',
          component: Components.Confirm,
          custom: { question: 'Archive the selected events?' },
          isAccessible: mayEditEach,
          handler: confirmed('bulk', async (context) => `${await archive(ds, ids(context), true)} archived`),
        },
      },
    },
  };
}

export const eventsResource = (ds: DataSource) => eventResource(ds, 'all');
export const logsResource = (ds: DataSource) => eventResource(ds, 'log');

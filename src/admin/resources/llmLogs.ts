import type { ResourceWithOptions } from 'adminjs';
import { LlmLog } from '../../entities/LlmLog.ts';
import { mayAnywhere } from '../auth.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { hidden, inProject, NAV, readOnly, showOnly } from './common.ts';

/** DataIdea's LLM calls: read, filter by model / source / user, delete (members and up). */
export function llmLogsResource(): ResourceWithOptions {
  const mayEdit = inProject('edit_data');
  const resource = new ScopedResource(LlmLog, {
    scope: projectScope('r.projectId'),
    exact: ['model', 'source', 'userRef', 'eventId', 'traceId', 'origin'],
    // Prompts may be 1 MB: search (and the trigram index) covers their first 2000 characters.
    filterExpr: { query: 'left(r.query, 2000)' },
    heavy: ['query', 'response', 'metadata'],
    excerpt: ['query'],
  });
  return {
    resource,
    options: {
      id: 'LlmLog',
      navigation: NAV.data,
      sort: { sortBy: 'timestamp', direction: 'desc' },
      listProperties: ['id', 'timestamp', 'model', 'query', 'totalTokens', 'cost', 'latencyMs', 'error', 'source', 'projectId'],
      filterProperties: ['projectId', 'model', 'source', 'userRef', 'query', 'traceId', 'origin', 'timestamp'],
      showProperties: [
        'id',
        'projectId',
        'timestamp',
        'model',
        'source',
        'userRef',
        'promptTokens',
        'completionTokens',
        'cachedTokens',
        'totalTokens',
        'cost',
        'latencyMs',
        'error',
        'traceId',
        'spanId',
        'scrubbed',
        'query',
        'response',
        'metadata',
        'origin',
        'eventId',
        'receivedAt',
      ],
      properties: {
        query: { isTitle: true, components: { list: Components.Excerpt, show: Components.CodeBlock }, description: 'Prompt' },
        response: { ...showOnly, components: { show: Components.CodeBlock } },
        metadata: { ...showOnly, components: { show: Components.JsonBlock } },
        promptTokens: { type: 'number' },
        completionTokens: { type: 'number' },
        totalTokens: { type: 'number' },
        latencyMs: { type: 'number' },
        cachedTokens: { type: 'number' },
        cost: { type: 'number', description: 'US dollars, from the LLM price table when the call was stored' },
        scrubbed: {
          ...showOnly,
          components: { show: Components.JsonBlock },
          description: 'What scrubbing took out before storage: each field path and the rule (default:… or a project rule kind#id)',
        },
        error: readOnly,
        traceId: {
          ...readOnly,
          description: 'The trace this call belongs to: opens the trace page',
          components: { show: Components.TraceLink, list: Components.TraceLink },
        },
        spanId: readOnly,
        origin: readOnly,
        eventId: readOnly,
        receivedAt: readOnly,
        userRef: { description: "The client's user id" },
        id: { isVisible: { list: true, filter: false, show: true, edit: false } },
        project: hidden,
      },
      actions: {
        new: { isAccessible: false },
        edit: { isAccessible: false },
        delete: { isAccessible: mayEdit },
        bulkDelete: {
          isAccessible: (c: Parameters<typeof mayEdit>[0]) =>
            c.record ? mayEdit(c) : mayAnywhere(c.currentAdmin as AdminUser, 'edit_data'),
        },
      },
    },
  };
}

import type { ResourceWithOptions } from 'adminjs';
import { LlmLog } from '../../entities/LlmLog.ts';
import { mayAnywhere } from '../auth.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { hidden, inProject, NAV, readOnly, showOnly } from './common.ts';

/** Seed 3's LLM calls: read, filter by model / source / user, delete (members and up). */
export function llmLogsResource(): ResourceWithOptions {
  const mayEdit = inProject('edit_data');
  const resource = new ScopedResource(LlmLog, {
    scope: projectScope('r.projectId'),
    exact: ['model', 'source', 'userRef', 'eventId'],
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
      listProperties: ['id', 'timestamp', 'model', 'query', 'totalTokens', 'latencyMs', 'source', 'projectId'],
      filterProperties: ['projectId', 'model', 'source', 'userRef', 'query', 'timestamp'],
      showProperties: [
        'id', 'projectId', 'timestamp', 'model', 'source', 'userRef', 'promptTokens', 'completionTokens', 'totalTokens', 'latencyMs',
        'query', 'response', 'metadata', 'eventId', 'receivedAt',
      ],
      properties: {
        query: { isTitle: true, components: { list: Components.Excerpt, show: Components.CodeBlock }, description: 'Prompt' },
        response: { ...showOnly, components: { show: Components.CodeBlock } },
        metadata: { ...showOnly, components: { show: Components.JsonBlock } },
        promptTokens: { type: 'number' },
        completionTokens: { type: 'number' },
        totalTokens: { type: 'number' },
        latencyMs: { type: 'number' },
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
        bulkDelete: { isAccessible: (c: Parameters<typeof mayEdit>[0]) => (c.record ? mayEdit(c) : mayAnywhere(c.currentAdmin as AdminUser, 'edit_data')) },
      },
    },
  };
}

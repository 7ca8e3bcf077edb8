import { ValidationError, type ActionContext, type ParamsType, type ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { setIssueStatus } from '../../domain/issues/status.ts';
import { LEVELS } from '../../domain/levels.ts';
import { ISSUE_STATUSES, Issue, type IssueStatus } from '../../entities/Issue.ts';
import { mayAnywhere } from '../auth.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { confirmed, hidden, inProject, NAV, readOnly } from './common.ts';

class IssueResource extends ScopedResource {
  constructor(private readonly ds: DataSource) {
    super(Issue, { scope: projectScope('r.projectId'), exact: ['status', 'level', 'fingerprint', 'culprit'] });
  }

  /** Only the status changes here; counters and first/last seen belong to the workers. */
  override async update(id: string, params: Record<string, unknown>): Promise<ParamsType> {
    const status = params.status as IssueStatus;
    if (!ISSUE_STATUSES.includes(status)) throw new ValidationError({ status: { message: ISSUE_STATUSES.join(', ') } });
    await setIssueStatus(this.ds, [id], status);
    return this.paramsOf(id);
  }
}

export function issuesResource(ds: DataSource): ResourceWithOptions {
  const mayEdit = inProject('edit_data');
  const mayEditEach = (c: Parameters<typeof mayEdit>[0]) => (c.record ? mayEdit(c) : mayAnywhere(c.currentAdmin as AdminUser, 'edit_data'));
  const bulk = (status: IssueStatus, icon: string) => ({
    actionType: 'bulk' as const,
    icon,
    component: Components.Confirm,
    custom: { question: `Mark the selected issues ${status}?` },
    isAccessible: mayEditEach,
    handler: confirmed('bulk', async (context: ActionContext) => `${await setIssueStatus(ds, (context.records ?? []).map((r) => String(r.id())), status)} ${status}`),
  });
  return {
    resource: new IssueResource(ds),
    options: {
      navigation: NAV.data,
      sort: { sortBy: 'lastSeen', direction: 'desc' },
      listProperties: ['id', 'title', 'level', 'status', 'timesSeen', 'lastSeen', 'firstSeen', 'projectId'],
      filterProperties: ['projectId', 'status', 'level', 'title', 'culprit', 'lastSeen', 'firstSeen'],
      showProperties: ['id', 'projectId', 'title', 'culprit', 'level', 'status', 'timesSeen', 'firstSeen', 'lastSeen', 'resolvedAt', 'fingerprint'],
      editProperties: ['status'],
      properties: {
        title: { isTitle: true },
        level: { availableValues: LEVELS.map((l) => ({ value: l, label: l })), components: { list: Components.LevelBadge, show: Components.LevelBadge } },
        status: { availableValues: ISSUE_STATUSES.map((s) => ({ value: s, label: s })) },
        timesSeen: { type: 'number' },
        fingerprint: readOnly,
        createdAt: hidden,
        updatedAt: hidden,
      },
      actions: {
        new: { isAccessible: false },
        edit: { isAccessible: mayEdit },
        delete: { isAccessible: mayEdit, guard: 'Delete this issue? Its events stay, ungrouped.' },
        bulkDelete: { isAccessible: mayEditEach },
        resolve: bulk('resolved', 'CheckCircle'),
        ignore: bulk('ignored', 'EyeOff'),
      },
    },
  };
}

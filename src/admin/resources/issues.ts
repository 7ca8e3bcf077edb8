import { ValidationError, type ActionContext, type ActionRequest, type ParamsType, type ResourceWithOptions } from 'adminjs';
import { Router, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import { sendAttachment } from '../../api/routes/attachments/attachments.ts';
import { IssuePatch } from '../../api/routes/issues/schema.ts';
import { openAttachment } from '../../domain/attachments/attachments.ts';
import { badRequest, zodDetails } from '../../domain/errors.ts';
import { issueEvent } from '../../domain/issues/details.ts';
import { issuePage } from '../../domain/issues/page.ts';
import { changeIssue, setStatusMany } from '../../domain/issues/workflow.ts';
import { LEVELS } from '../../domain/levels.ts';
import type { Access } from '../../domain/access/index.ts';
import { ISSUE_STATUSES, Issue, type IssueStatus } from '../../entities/Issue.ts';
import { artifactStore } from '../../storage/index.ts';
import type { BlobStore } from '../../storage/blobStore.ts';
import { mayAnywhere, mayIn } from '../auth.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { actorOf, confirmed, domainCall, hidden, inProject, NAV, readOnly } from './common.ts';

class IssueResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
  ) {
    super(Issue, {
      scope: projectScope('r.projectId'),
      exact: ['status', 'level', 'fingerprint', 'culprit', 'substatus', 'firstRelease', 'lastRelease'],
    });
  }

  /** Only the status changes here (through the workflow, so it is logged); counters belong to the workers. */
  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const status = params.status as IssueStatus;
    if (!ISSUE_STATUSES.includes(status)) throw new ValidationError({ status: { message: ISSUE_STATUSES.join(', ') } });
    const current = await this.ds.getRepository(Issue).findOneBy({ id });
    if (current && current.status !== status) await changeIssue(this.access, actorOf(context), id, { status });
    return this.paramsOf(id);
  }
}

/** The form the issue page posts (flat strings, as AdminJS sends them) → the API's IssuePatch. */
function patchOf(payload: Record<string, unknown>) {
  const s = (k: string) => (typeof payload[k] === 'string' && payload[k] !== '' ? (payload[k] as string) : undefined);
  const body: Record<string, unknown> = {};
  for (const k of ['status', 'resolution', 'release', 'ignore_until', 'comment']) if (s(k) !== undefined) body[k] = s(k);
  if (s('ignore_count') !== undefined) body.ignore_count = Number(s('ignore_count'));
  if (payload.assignee !== undefined)
    body.assignee = payload.assignee === '' || payload.assignee === 'none' ? null : Number(payload.assignee);
  const parsed = IssuePatch.safeParse(body);
  if (!parsed.success) throw badRequest('Invalid change', zodDetails(parsed.error.issues));
  const b = parsed.data;
  return {
    status: b.status,
    resolution: b.resolution,
    release: b.release,
    ignoreCount: b.ignore_count,
    ignoreUntil: b.ignore_until ? new Date(b.ignore_until) : undefined,
    assignee: b.assignee,
    comment: b.comment,
  };
}

/**
 * The issue page's data and its workflow actions, as one record action the page calls
 * (GET: the page, `?event=<id>` for another event; POST: a change, then the page). The
 * same domain calls as GET /api/issues/{id}/summary/ and PATCH /api/issues/{id}/.
 */
function triageHandler(ds: DataSource, access: Access) {
  return async (request: ActionRequest, _response: unknown, context: ActionContext) => {
    const admin = actorOf(context);
    const id = String(context.record!.id());
    let issue = await ds.getRepository(Issue).findOneByOrFail({ id });
    let notice: { message: string; type: 'success' } | undefined;
    if (request.method === 'post') {
      await domainCall(async () => {
        await access.authorize(admin, issue.projectId, 'triage', 'Issue');
        issue = await changeIssue(access, admin, id, patchOf((request.payload ?? {}) as Record<string, unknown>));
      }, 'status');
      notice = { message: 'Issue updated', type: 'success' };
    }
    const page = await issuePage(access, issue, admin);
    const wanted = typeof request.query?.event === 'string' ? request.query.event : null;
    if (wanted && wanted !== page.latest_event?.event_id)
      page.latest_event = await domainCall(() => issueEvent(ds, issue, wanted), 'event');
    return { record: context.record!.toJSON(context.currentAdmin), page, ...(notice ? { notice } : {}) };
  };
}

export const ATTACHMENT_DOWNLOAD_PATH = '/admin/attachments/{project}/{event}/{id}';

/** GET /admin/attachments/:project/:event/:id behind the admin session, for anyone who may see the project. */
export function attachmentDownloadRoute(ds: DataSource, store: BlobStore = artifactStore()): Router {
  const r = Router();
  r.get('/attachments/:project/:event/:id', async (req: Request, res: Response) => {
    const admin = req.session?.adminUser as AdminUser | undefined;
    const projectId = Number(req.params.project);
    if (!admin || !Number.isSafeInteger(projectId) || !mayIn(admin, projectId, 'view')) {
      res.status(404).json({ error: 'Attachment not found', code: 'not_found', details: null });
      return;
    }
    await sendAttachment(res, await openAttachment(ds, store, projectId, String(req.params.event), String(req.params.id)));
  });
  return r;
}

export function issuesResource(ds: DataSource, access: Access): ResourceWithOptions {
  const mayEdit = inProject('triage');
  const mayEditEach = (c: Parameters<typeof mayEdit>[0]) => (c.record ? mayEdit(c) : mayAnywhere(c.currentAdmin as AdminUser, 'triage'));
  const bulk = (status: IssueStatus, icon: string) => ({
    actionType: 'bulk' as const,
    icon,
    component: Components.Confirm,
    custom: { question: `Mark the selected issues ${status}?` },
    isAccessible: mayEditEach,
    handler: confirmed('bulk', async (context: ActionContext) => {
      const admin = actorOf(context);
      const ids = (context.records ?? []).filter((r) => mayIn(admin, r.param('projectId'), 'triage')).map((r) => String(r.id()));
      return `${await setStatusMany(access, admin, ids, status)} ${status}`;
    }),
  });
  return {
    resource: new IssueResource(ds, access),
    options: {
      navigation: NAV.data,
      sort: { sortBy: 'lastSeen', direction: 'desc' },
      listProperties: ['id', 'title', 'level', 'status', 'substatus', 'timesSeen', 'usersSeen', 'lastSeen', 'firstSeen', 'projectId'],
      filterProperties: [
        'projectId',
        'status',
        'substatus',
        'level',
        'title',
        'culprit',
        'assigneeId',
        'firstRelease',
        'lastRelease',
        'lastSeen',
        'firstSeen',
      ],
      showProperties: [
        'id',
        'projectId',
        'title',
        'culprit',
        'level',
        'status',
        'timesSeen',
        'firstSeen',
        'lastSeen',
        'resolvedAt',
        'fingerprint',
      ],
      editProperties: ['status'],
      properties: {
        title: { isTitle: true },
        level: {
          availableValues: LEVELS.map((l) => ({ value: l, label: l })),
          components: { list: Components.LevelBadge, show: Components.LevelBadge },
        },
        status: { availableValues: ISSUE_STATUSES.map((s) => ({ value: s, label: s })) },
        timesSeen: { type: 'number' },
        usersSeen: { type: 'number' },
        fingerprint: readOnly,
        createdAt: hidden,
        updatedAt: hidden,
        ignoreUntilTimes: hidden,
        groupingVersion: readOnly,
      },
      actions: {
        new: { isAccessible: false },
        // The issue page: everything needed to fix the bug, and the workflow.
        show: { component: Components.IssuePage },
        triage: {
          actionType: 'record',
          isVisible: false,
          component: false,
          isAccessible: inProject('view'),
          handler: triageHandler(ds, access),
        },
        edit: { isAccessible: mayEdit },
        delete: { isAccessible: inProject('edit_data'), guard: 'Delete this issue? Its events stay, ungrouped.' },
        bulkDelete: {
          isAccessible: (c: Parameters<typeof mayEdit>[0]) =>
            c.record ? inProject('edit_data')(c) : mayAnywhere(c.currentAdmin as AdminUser, 'edit_data'),
        },
        resolve: bulk('resolved', 'CheckCircle'),
        ignore: bulk('ignored', 'EyeOff'),
      },
    },
  };
}

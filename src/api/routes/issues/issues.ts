import { Router, type Request } from 'express';
import type { DataSource } from 'typeorm';
import { listEvents, serializeEvent } from '../../../domain/events/query.ts';
import { issueForActor, listIssues, serializeIssue } from '../../../domain/issues/query.ts';
import { changeIssue } from '../../../domain/issues/workflow.ts';
import { DEFAULT_PAGE_SIZE } from '../../../domain/pagination.ts';
import type { Access, ProjectAction } from '../../../domain/access/index.ts';
import { Issue } from '../../../entities/Issue.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks, pageRequest, sendPage } from '../../pagination.ts';
import { IssueEventsQuery, IssueIdParam, IssueListQuery, IssuePatch } from './schema.ts';

export function issueRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.use(requireUser(access));

  /** The issue, if the caller may `action` in its project; an issue in a project they cannot see is 404. */
  const issueFor = (req: Request, action: ProjectAction): Promise<Issue> =>
    issueForActor(ds, access, currentUser(req), IssueIdParam.parse(req.params).id, action);

  r.get('/', async (req, res) => {
    const q = IssueListQuery.parse(req.query);
    const scope = await access.scope(currentUser(req), q.project);
    const page = { mode: 'page' as const, page: q.page ?? 1, pageSize: q.page_size ?? DEFAULT_PAGE_SIZE };
    const { rows, count } = await listIssues(ds, { scope, status: q.status, search: q.search || undefined }, page);
    res.json({
      count,
      ...pageLinks(req, page, { hasMore: page.page * page.pageSize < count, nextCursor: null }),
      results: rows.map(serializeIssue),
    });
  });

  r.get('/:id', async (req, res) => {
    res.json(serializeIssue(await issueFor(req, 'view')));
  });

  r.patch('/:id', async (req, res) => {
    const issue = await issueFor(req, 'triage');
    const b = IssuePatch.parse(req.body);
    const change = {
      status: b.status,
      resolution: b.resolution,
      release: b.release,
      ignoreCount: b.ignore_count,
      ignoreUntil: b.ignore_until ? new Date(b.ignore_until) : undefined,
      assignee: b.assignee,
      comment: b.comment,
    };
    res.json(serializeIssue(await changeIssue(access, currentUser(req), issue.id, change)));
  });

  r.get('/:id/events', async (req, res) => {
    const issue = await issueFor(req, 'view');
    const q = IssueEventsQuery.parse(req.query);
    const page = pageRequest(q);
    const result = await listEvents(
      ds,
      { projectId: issue.projectId, issueId: issue.id, search: q.search?.trim() || undefined, environment: q.environment },
      page,
    );
    sendPage(req, res, page, result, serializeEvent);
  });

  return r;
}

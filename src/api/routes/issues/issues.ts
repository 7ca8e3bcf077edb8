import { Router, type Request } from 'express';
import type { DataSource } from 'typeorm';
import { notFound } from '../../../domain/errors.ts';
import { listEvents, serializeEvent } from '../../../domain/events/query.ts';
import { listIssues, serializeIssue } from '../../../domain/issues/query.ts';
import { DEFAULT_PAGE_SIZE } from '../../../domain/pagination.ts';
import { authorize, visibleProjectIds, type ProjectAction } from '../../../domain/projects/access.ts';
import { Issue } from '../../../entities/Issue.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks, pageRequest, sendPage } from '../../pagination.ts';
import { IssueEventsQuery, IssueIdParam, IssueListQuery, IssuePatch } from './schema.ts';

export function issueRoutes(ds: DataSource): Router {
  const r = Router();
  r.use(requireUser(ds));

  /** The issue, if the caller may `action` in its project; an issue in a project they cannot see is 404. */
  async function issueFor(req: Request, action: ProjectAction): Promise<Issue> {
    const { id } = IssueIdParam.parse(req.params);
    const issue = await ds.getRepository(Issue).findOneBy({ id: String(id) });
    if (!issue) throw notFound('Issue not found');
    try {
      await authorize(ds, currentUser(req), issue.projectId, action);
    } catch (err) {
      if ((err as { status?: number }).status === 404) throw notFound('Issue not found');
      throw err;
    }
    return issue;
  }

  r.get('/', async (req, res) => {
    const q = IssueListQuery.parse(req.query);
    const user = currentUser(req);
    let projects: number[] | 'all';
    if (q.project !== undefined) {
      await authorize(ds, user, q.project, 'view');
      projects = [q.project];
    } else {
      projects = await visibleProjectIds(ds, user);
    }
    const page = { mode: 'page' as const, page: q.page ?? 1, pageSize: q.page_size ?? DEFAULT_PAGE_SIZE };
    const { rows, count } = await listIssues(ds, { projects, status: q.status, search: q.search || undefined }, page);
    res.json({ count, ...pageLinks(req, page, { hasMore: page.page * page.pageSize < count, nextCursor: null }), results: rows.map(serializeIssue) });
  });

  r.get('/:id', async (req, res) => {
    res.json(serializeIssue(await issueFor(req, 'view')));
  });

  r.patch('/:id', async (req, res) => {
    const issue = await issueFor(req, 'edit_data');
    const { status } = IssuePatch.parse(req.body);
    issue.resolvedAt = status === 'resolved' ? (issue.status === 'resolved' ? issue.resolvedAt : new Date()) : null;
    issue.status = status;
    res.json(serializeIssue(await ds.getRepository(Issue).save(issue)));
  });

  r.get('/:id/events', async (req, res) => {
    const issue = await issueFor(req, 'view');
    const q = IssueEventsQuery.parse(req.query);
    const page = pageRequest(q);
    const result = await listEvents(ds, { projectId: issue.projectId, issueId: issue.id, search: q.search?.trim() || undefined, environment: q.environment }, page);
    sendPage(req, res, page, result, serializeEvent);
  });

  return r;
}

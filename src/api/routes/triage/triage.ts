import { Router, type Request } from 'express';
import type { DataSource } from 'typeorm';
import { issueEvent, issueFacets, issueFrequency } from '../../../domain/issues/details.ts';
import { issuePage } from '../../../domain/issues/page.ts';
import { issueForActor } from '../../../domain/issues/query.ts';
import { changeIssue, issueActivity } from '../../../domain/issues/workflow.ts';
import type { Access, ProjectAction } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { IssueIdParam } from '../issues/schema.ts';
import { CommentBody, IssueEventParam, StatsQuery } from './schema.ts';

/** The issue page's reads and the comment write, under /api/issues (beside the issue routes). */
export function triageRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.use(requireUser(access));
  const issueFor = (req: Request, action: ProjectAction) =>
    issueForActor(ds, access, currentUser(req), IssueIdParam.parse(req.params).id, action);

  r.get('/:id/summary', async (req, res) => {
    const issue = await issueFor(req, 'view');
    res.json(await issuePage(access, issue, currentUser(req)));
  });

  r.get('/:id/events/:event_id', async (req, res) => {
    const issue = await issueFor(req, 'view');
    const { event_id } = IssueEventParam.parse(req.params);
    res.json(await issueEvent(ds, issue, event_id));
  });

  r.get('/:id/tags', async (req, res) => {
    const issue = await issueFor(req, 'view');
    res.json(await issueFacets(ds, issue.id));
  });

  r.get('/:id/stats', async (req, res) => {
    const issue = await issueFor(req, 'view');
    const { period } = StatsQuery.parse(req.query);
    res.json({ period, buckets: await issueFrequency(ds, issue.id, period) });
  });

  r.get('/:id/activity', async (req, res) => {
    const issue = await issueFor(req, 'view');
    res.json({ results: await issueActivity(ds, issue.id) });
  });

  r.post('/:id/comments', async (req, res) => {
    const issue = await issueFor(req, 'triage');
    const { text } = CommentBody.parse(req.body);
    await changeIssue(access, currentUser(req), issue.id, { comment: text });
    res.status(201).json((await issueActivity(ds, issue.id, 1))[0]);
  });

  return r;
}

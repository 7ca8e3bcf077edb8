import type { DataSource } from 'typeorm';
import { Issue, type IssueStatus } from '../../entities/Issue.ts';
import { likePattern } from '../pagination.ts';
import type { Access, Actor, ProjectAction } from '../access/index.ts';
import { scopeCondition, type Scope } from '../access/index.ts';

export interface IssueFilters {
  scope: Scope;
  status?: IssueStatus;
  search?: string;
}

/** Most recently seen first; uses (project_id, status, last_seen) and the title trigram index. */
export async function listIssues(ds: DataSource, f: IssueFilters, page: { page: number; pageSize: number }) {
  const qb = ds.getRepository(Issue).createQueryBuilder('i').orderBy('i.last_seen', 'DESC').addOrderBy('i.id', 'DESC');
  const inScope = scopeCondition(f.scope, 'i.project_id');
  if (inScope) qb.andWhere(inScope.sql, inScope.params);
  if (f.status) qb.andWhere('i.status = :status', { status: f.status });
  if (f.search) qb.andWhere('(i.title ILIKE :q OR i.culprit ILIKE :q)', { q: likePattern(f.search) });
  const [rows, count] = await qb
    .skip((page.page - 1) * page.pageSize)
    .take(page.pageSize)
    .getManyAndCount();
  return { rows, count };
}

export function serializeIssue(i: Issue) {
  return {
    id: Number(i.id),
    project: i.projectId,
    title: i.title,
    culprit: i.culprit,
    level: i.level,
    status: i.status,
    times_seen: Number(i.timesSeen),
    first_seen: i.firstSeen.toISOString(),
    last_seen: i.lastSeen.toISOString(),
    resolved_at: i.resolvedAt?.toISOString() ?? null,
    fingerprint: i.fingerprint,
    // Triage (issue 12): additive.
    substatus: i.substatus ?? null,
    users_seen: Number(i.usersSeen ?? 0),
    first_release: i.firstRelease ?? null,
    last_release: i.lastRelease ?? null,
    assignee: i.assigneeId ?? null,
    resolution: i.resolution ?? null,
    resolved_in_release: i.resolvedInRelease ?? null,
    ignore_until: i.ignoreUntil?.toISOString() ?? null,
    ignore_until_times: i.ignoreUntilTimes === null || i.ignoreUntilTimes === undefined ? null : Number(i.ignoreUntilTimes),
    grouping_version: i.groupingVersion ?? 1,
  };
}

/** The issue, if the actor may `action` in its project; one in a project they cannot see is 404, like a missing one. */
export async function issueForActor(ds: DataSource, access: Access, actor: Actor, id: number, action: ProjectAction): Promise<Issue> {
  const issue = Number.isSafeInteger(id) && id > 0 ? await ds.getRepository(Issue).findOneBy({ id: String(id) }) : null;
  return access.guard(actor, issue, (i) => i.projectId, action, 'Issue');
}

/**
 * The issue workflow: assign, resolve (now, in a release, in the next release), ignore
 * (forever, for N more events, until a date), reopen, comment — each change recorded in
 * the issue's activity log with who did it. The API (PATCH /api/issues/{id}/) and the
 * admin's issue page both call `changeIssue`.
 *
 * What undoes a resolution or an ignore is the statement that stores events
 * (src/domain/events/store.ts, `reopen`): a resolved issue seen again regresses — if it
 * was resolved in a release, only by an event from that release or a newer one — and an
 * ignored issue comes back once its date passes or its count is reached; both are
 * logged here too, as `regressed` / `unignored` with no user.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { Issue, type IssueStatus, type Resolution } from '../../entities/Issue.ts';
import { badRequest } from '../errors.ts';
import type { Access, Actor } from '../access/index.ts';
import { ensureRelease, latestRelease } from '../releases/manage.ts';

export interface IssueChange {
  status?: IssueStatus;
  /** With status resolved: how. Default `now`. */
  resolution?: Resolution;
  /** With resolution in_release: the release that fixes it (created if Faultline has not seen it yet). */
  release?: string;
  /** With status ignored: until this many more events arrive… */
  ignoreCount?: number;
  /** …or until this moment. Neither: forever. */
  ignoreUntil?: Date;
  /** A user id (the project's owner or a member), or null to unassign. */
  assignee?: number | null;
  comment?: string;
}

type Activity = { kind: string; data?: Record<string, unknown> };

async function assigneeOk(access: Access, em: EntityManager, projectId: number, userId: number): Promise<{ id: number; email: string }> {
  const rows: Array<{ id: number; email: string; is_active: boolean }> = await em.query(
    `SELECT id, email, is_active FROM users WHERE id = $1`,
    [userId],
  );
  const user = rows[0];
  // Staff who are not members are not "project members": assignment is for the team.
  const role = user?.is_active ? await access.roleIn({ id: user.id, isStaff: false }, projectId) : null;
  if (!user || !role)
    throw badRequest('The assignee must be a member of the project', [{ path: 'assignee', message: 'not a member of this project' }]);
  return user;
}

/** Applies a change to an issue (already authorized for `triage`) and logs it; answers the updated issue. */
export async function changeIssue(access: Access, actor: Actor, issueId: string, change: IssueChange): Promise<Issue> {
  return access.ds.transaction(async (em) => {
    const issue = await em
      .getRepository(Issue)
      .createQueryBuilder('i')
      .setLock('pessimistic_write')
      .where('i.id = :id', { id: issueId })
      .getOneOrFail();
    const log: Activity[] = [];

    if (change.status === 'resolved') {
      const resolution = change.resolution ?? 'now';
      let release: string | null = null;
      if (resolution === 'in_release') {
        release = change.release!;
        await ensureRelease(em, issue.projectId, release, actor.id);
      } else if (resolution === 'in_next_release') {
        // "Next" after the newest release the project has now: any newer one regresses it.
        release = (await latestRelease(em, issue.projectId))?.version ?? null;
      }
      issue.status = 'resolved';
      issue.substatus = null;
      issue.resolution = resolution;
      issue.resolvedInRelease = release;
      issue.resolvedAt = new Date();
      issue.ignoreUntil = null;
      issue.ignoreUntilTimes = null;
      log.push({
        kind: 'resolved',
        data: {
          resolution,
          ...(resolution === 'in_release' ? { release } : {}),
          ...(resolution === 'in_next_release' ? { after_release: release } : {}),
        },
      });
    } else if (change.status === 'ignored') {
      issue.status = 'ignored';
      issue.substatus = null;
      issue.resolution = null;
      issue.resolvedInRelease = null;
      issue.resolvedAt = null;
      issue.ignoreUntil = change.ignoreUntil ?? null;
      issue.ignoreUntilTimes = change.ignoreCount ? String(BigInt(issue.timesSeen) + BigInt(change.ignoreCount)) : null;
      log.push({
        kind: 'ignored',
        data: {
          ...(change.ignoreUntil ? { until: change.ignoreUntil.toISOString() } : {}),
          ...(change.ignoreCount ? { count: change.ignoreCount } : {}),
        },
      });
    } else if (change.status === 'unresolved') {
      const was = issue.status;
      issue.status = 'unresolved';
      issue.substatus = was === 'unresolved' ? issue.substatus : 'ongoing';
      issue.resolution = null;
      issue.resolvedInRelease = null;
      issue.resolvedAt = null;
      issue.ignoreUntil = null;
      issue.ignoreUntilTimes = null;
      if (was !== 'unresolved') log.push({ kind: 'unresolved', data: { from: was } });
    }

    if (change.assignee !== undefined && change.assignee !== issue.assigneeId) {
      if (change.assignee === null) {
        log.push({ kind: 'unassigned', data: { previous: issue.assigneeId } });
        issue.assigneeId = null;
      } else {
        const user = await assigneeOk(access, em, issue.projectId, change.assignee);
        issue.assigneeId = user.id;
        log.push({ kind: 'assigned', data: { assignee: user.id, email: user.email } });
      }
    }

    if (change.comment?.trim()) log.push({ kind: 'note', data: { text: change.comment.trim() } });

    // Only the workflow columns: counters belong to the statement that stores events.
    await em.getRepository(Issue).update(issue.id, {
      status: issue.status,
      substatus: issue.substatus,
      resolution: issue.resolution,
      resolvedInRelease: issue.resolvedInRelease,
      resolvedAt: issue.resolvedAt,
      ignoreUntil: issue.ignoreUntil,
      ignoreUntilTimes: issue.ignoreUntilTimes,
      assigneeId: issue.assigneeId,
    });
    if (log.length) {
      await em.query(
        `INSERT INTO issue_activity (issue_id, project_id, user_id, kind, data) SELECT $1, $2, $3, k, d FROM unnest($4::text[], $5::jsonb[]) AS a(k, d)`,
        [issue.id, issue.projectId, actor.id, log.map((a) => a.kind), log.map((a) => JSON.stringify(a.data ?? {}))],
      );
    }
    return em.getRepository(Issue).findOneByOrFail({ id: issue.id });
  });
}

/** Newest first, with who did it. */
export async function issueActivity(ds: DataSource, issueId: string, limit = 100) {
  const rows: Array<{
    id: string;
    kind: string;
    data: Record<string, unknown>;
    created_at: Date;
    user_id: number | null;
    email: string | null;
    first_name: string | null;
    last_name: string | null;
  }> = await ds.query(
    `SELECT a.id, a.kind, a.data, a.created_at, a.user_id, u.email, u.first_name, u.last_name
         FROM issue_activity a LEFT JOIN users u ON u.id = a.user_id
        WHERE a.issue_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT $2`,
    [issueId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    data: r.data,
    created_at: r.created_at.toISOString(),
    user:
      r.user_id === null ? null : { id: r.user_id, email: r.email, name: [r.first_name, r.last_name].filter(Boolean).join(' ') || null },
  }));
}

/** Bulk status changes (the admin's list actions): one activity row per issue that changed. */
export async function setStatusMany(access: Access, actor: Actor, ids: string[], status: IssueStatus): Promise<number> {
  let n = 0;
  for (const id of ids) {
    const before = await access.ds.getRepository(Issue).findOneBy({ id });
    if (!before || before.status === status) continue;
    await changeIssue(access, actor, id, { status });
    n++;
  }
  return n;
}

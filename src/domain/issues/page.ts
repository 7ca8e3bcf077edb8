/**
 * The issue page in one call (GET /api/issues/{id}/summary/ and the admin's issue page):
 * the issue, who it is assigned to, whom it can be assigned to, facets, frequency,
 * the latest event in full and the activity log. Its queries run side by side.
 */
import type { DataSource } from 'typeorm';
import type { Issue } from '../../entities/Issue.ts';
import { can, type Access, type Actor } from '../access/index.ts';
import { issueEvent, issueFacets, issueFrequency, type EventDetail } from './details.ts';
import { serializeIssue } from './query.ts';
import { issueActivity } from './workflow.ts';

export async function projectMembers(ds: DataSource, projectId: number) {
  const rows: Array<{ id: number; email: string; first_name: string; last_name: string; role: string }> = await ds.query(
    `SELECT u.id, u.email, u.first_name, u.last_name, 'owner' AS role FROM projects p JOIN users u ON u.id = p.owner_id WHERE p.id = $1 AND u.is_active
     UNION ALL
     SELECT u.id, u.email, u.first_name, u.last_name, m.role FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND u.is_active
     ORDER BY email`,
    [projectId],
  );
  return rows.map((r) => ({ id: r.id, email: r.email, name: [r.first_name, r.last_name].filter(Boolean).join(' ') || null, role: r.role }));
}

export async function issuePage(access: Access, issue: Issue, actor: Actor) {
  const { ds } = access;
  const [members, role, facets, day, month, latest, activity] = await Promise.all([
    projectMembers(ds, issue.projectId),
    access.roleIn(actor, issue.projectId),
    issueFacets(ds, issue.id),
    issueFrequency(ds, issue.id, '24h'),
    issueFrequency(ds, issue.id, '30d'),
    issueEvent(ds, issue, 'latest').catch((err: { status?: number }): EventDetail | null => {
      if (err.status === 404) return null; // an issue whose events were all deleted
      throw err;
    }),
    issueActivity(ds, issue.id, 50),
  ]);
  const assignee = members.find((m) => m.id === issue.assigneeId) ?? null;
  return {
    issue: serializeIssue(issue),
    assignee: assignee
      ? { id: assignee.id, email: assignee.email, name: assignee.name }
      : issue.assigneeId
        ? { id: issue.assigneeId, email: null, name: null }
        : null,
    members,
    permissions: { triage: role ? can(role, 'triage') : false },
    facets,
    frequency: { '24h': day, '30d': month },
    latest_event: latest,
    activity,
  };
}

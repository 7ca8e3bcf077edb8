import type { DataSource } from 'typeorm';
import type { IssueStatus } from '../../entities/Issue.ts';

/**
 * The status change of issues, for the API and the admin alike: resolving stamps
 * resolved_at (kept when the issue was resolved already); any other status clears it.
 * Answers how many issues changed. Callers have checked the actor may triage them.
 */
export async function setIssueStatus(ds: DataSource, ids: string[], status: IssueStatus): Promise<number> {
  if (!ids.length) return 0;
  const [, n]: [unknown, number] = await ds.query(
    `UPDATE issues SET status = $2, updated_at = now(),
            resolved_at = CASE WHEN $2 = 'resolved' THEN coalesce(CASE WHEN status = 'resolved' THEN resolved_at END, now()) END
      WHERE id = ANY($1::bigint[]) AND status <> $2`,
    [ids, status],
  );
  return n;
}

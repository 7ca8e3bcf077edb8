import type { EntityManager } from 'typeorm';
import type { EventRecord } from '../events/record.ts';
import type { Level } from '../levels.ts';
import { groupEvent } from './fingerprint.ts';

/** Error events, and error-or-worse logs from any door, become issues (as Sentry's logging integrations do). */
export const isGroupable = (r: EventRecord) => r.kind === 'error' || r.level === 'error' || r.level === 'critical';

interface Bucket {
  projectId: number;
  fingerprint: string;
  title: string;
  culprit: string | null;
  level: Level;
  firstSeen: string;
  lastSeen: string;
  count: number;
  eventIds: string[];
}

/**
 * Groups freshly inserted events into issues, inside the transaction that inserted
 * them, so a re-delivered job (whose rows already exist and so are not "fresh")
 * never counts twice. One multi-row upsert per batch: the (project_id, fingerprint)
 * row lock serializes concurrent workers, so counters never lose updates; keys are
 * sorted so two batches cannot deadlock on each other.
 */
export async function assignIssues(em: EntityManager, fresh: Array<{ id: string; record: EventRecord }>): Promise<number> {
  const buckets = new Map<string, Bucket>();
  for (const { id, record: r } of fresh) {
    if (!isGroupable(r)) continue;
    const g = groupEvent({
      exception_type: r.exception_type,
      message: r.message,
      stacktrace: r.stacktrace,
      frames: r.grouping?.frames,
      fingerprint: r.grouping?.fingerprint,
    });
    const key = `${r.project_id}:${g.fingerprint}`;
    const b = buckets.get(key);
    if (!b) {
      buckets.set(key, { projectId: r.project_id, ...g, level: r.level, firstSeen: r.timestamp, lastSeen: r.timestamp, count: 1, eventIds: [id] });
      continue;
    }
    b.count++;
    b.eventIds.push(id);
    if (r.timestamp < b.firstSeen) b.firstSeen = r.timestamp;
    if (r.timestamp >= b.lastSeen) Object.assign(b, { lastSeen: r.timestamp, title: g.title, culprit: g.culprit, level: r.level });
  }
  if (!buckets.size) return 0;

  const rows = [...buckets.values()].sort((a, b) => a.projectId - b.projectId || a.fingerprint.localeCompare(b.fingerprint));
  const cols = 8;
  const values = rows.map((_, i) => `(${Array.from({ length: cols }, (_, c) => `$${i * cols + c + 1}`).join(', ')})`).join(', ');
  const params = rows.flatMap((b) => [b.projectId, b.fingerprint, b.title, b.culprit, b.level, b.firstSeen, b.lastSeen, b.count]);
  const issues: Array<{ id: string; project_id: number; fingerprint: string }> = await em.query(
    `INSERT INTO issues AS i (project_id, fingerprint, title, culprit, level, first_seen, last_seen, times_seen)
     VALUES ${values}
     ON CONFLICT (project_id, fingerprint) DO UPDATE SET
       times_seen  = i.times_seen + EXCLUDED.times_seen,
       first_seen  = LEAST(i.first_seen, EXCLUDED.first_seen),
       last_seen   = GREATEST(i.last_seen, EXCLUDED.last_seen),
       title       = CASE WHEN EXCLUDED.last_seen >= i.last_seen THEN EXCLUDED.title ELSE i.title END,
       culprit     = CASE WHEN EXCLUDED.last_seen >= i.last_seen THEN EXCLUDED.culprit ELSE i.culprit END,
       level       = CASE WHEN EXCLUDED.last_seen >= i.last_seen THEN EXCLUDED.level ELSE i.level END,
       -- a resolved issue that happens again is a regression: reopen it
       status      = CASE WHEN i.status = 'resolved' THEN 'unresolved' ELSE i.status END,
       resolved_at = CASE WHEN i.status = 'resolved' THEN NULL ELSE i.resolved_at END,
       updated_at  = now()
     RETURNING id, project_id, fingerprint`,
    params,
  );
  const issueOf = new Map(issues.map((i) => [`${i.project_id}:${i.fingerprint}`, i.id]));
  const eventIds: string[] = [];
  const issueIds: string[] = [];
  for (const [key, b] of buckets) {
    for (const id of b.eventIds) {
      eventIds.push(id);
      issueIds.push(issueOf.get(key)!);
    }
  }
  await em.query(
    `UPDATE events e SET issue_id = v.issue_id
       FROM (SELECT unnest($1::bigint[]) AS id, unnest($2::bigint[]) AS issue_id) v
      WHERE e.id = v.id`,
    [eventIds, issueIds],
  );
  return issues.length;
}

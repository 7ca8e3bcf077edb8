import type { EntityManager } from 'typeorm';
import type { EventRecord } from '../events/record.ts';
import type { InsertedEvent } from '../events/store.ts';
import type { Level } from '../levels.ts';
import { groupEvent, type Grouping } from './fingerprint.ts';

/** Error events, and error-or-worse logs from any door, become issues (as Sentry's logging integrations do). */
export const isGroupable = (r: EventRecord) => r.kind === 'error' || r.level === 'error' || r.level === 'critical';

const keyOf = (projectId: number, fingerprint: string) => `${projectId}:${fingerprint}`;

export interface IssuePlan {
  /** Issue id per record (null when the record is not grouped), in the records' order. */
  issueIds: Array<string | null>;
  groupings: Array<Grouping | null>;
}

/**
 * Step 1 of 2, before the events are inserted: every issue the batch needs exists
 * (created with times_seen 0), so each event row is written once, issue_id included —
 * no second write of the events to link them. Keys are sorted so two batches creating
 * the same issues cannot deadlock.
 */
export async function prepareIssues(em: EntityManager, records: EventRecord[]): Promise<IssuePlan> {
  const groupings = records.map((r) =>
    isGroupable(r)
      ? groupEvent({ exception_type: r.exception_type, message: r.message, stacktrace: r.stacktrace, frames: r.grouping?.frames, fingerprint: r.grouping?.fingerprint })
      : null,
  );
  const wanted = new Map<string, { projectId: number; g: Grouping; r: EventRecord }>();
  records.forEach((r, i) => {
    const g = groupings[i];
    if (g) wanted.set(keyOf(r.project_id, g.fingerprint), { projectId: r.project_id, g, r });
  });
  if (!wanted.size) return { issueIds: records.map(() => null), groupings };

  const rows = [...wanted.values()].sort((a, b) => a.projectId - b.projectId || a.g.fingerprint.localeCompare(b.g.fingerprint));
  const projectIds = rows.map((x) => x.projectId);
  const fingerprints = rows.map((x) => x.g.fingerprint);
  await em.query(
    `INSERT INTO issues (project_id, fingerprint, title, culprit, level, first_seen, last_seen, times_seen)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $6::timestamptz[], $7::bigint[])
     ON CONFLICT (project_id, fingerprint) DO NOTHING`,
    [projectIds, fingerprints, rows.map((x) => x.g.title), rows.map((x) => x.g.culprit), rows.map((x) => x.r.level), rows.map((x) => x.r.timestamp), rows.map(() => 0)],
  );
  const found: Array<{ id: string; project_id: number; fingerprint: string }> = await em.query(
    `SELECT i.id, i.project_id, i.fingerprint FROM issues i
       JOIN unnest($1::int[], $2::text[]) AS k(project_id, fingerprint) ON i.project_id = k.project_id AND i.fingerprint = k.fingerprint`,
    [projectIds, fingerprints],
  );
  const idOf = new Map(found.map((f) => [keyOf(f.project_id, f.fingerprint.trim()), f.id]));
  return { issueIds: records.map((r, i) => (groupings[i] ? (idOf.get(keyOf(r.project_id, groupings[i]!.fingerprint)) ?? null) : null)), groupings };
}

interface Tally {
  id: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  title: string;
  culprit: string | null;
  level: Level;
}

/**
 * Step 2 of 2, after the insert, in the same transaction: count only the events that
 * were new (a re-delivered job inserts nothing, so counts nothing). One UPDATE per
 * batch; the issue row locks serialize concurrent workers, so no update is lost.
 * A resolved issue that happens again is a regression: it reopens.
 */
export async function countIssues(em: EntityManager, records: EventRecord[], plan: IssuePlan, fresh: InsertedEvent[]): Promise<number> {
  const index = new Map(records.map((r, i) => [`${r.project_id}:${r.event_id}`, i]));
  const tallies = new Map<string, Tally>();
  for (const row of fresh) {
    const i = index.get(`${row.project_id}:${row.event_id}`);
    if (i === undefined) continue;
    const id = plan.issueIds[i];
    const g = plan.groupings[i];
    if (!id || !g) continue;
    const r = records[i];
    const t = tallies.get(id);
    if (!t) {
      tallies.set(id, { id, count: 1, firstSeen: r.timestamp, lastSeen: r.timestamp, title: g.title, culprit: g.culprit, level: r.level });
      continue;
    }
    t.count++;
    if (r.timestamp < t.firstSeen) t.firstSeen = r.timestamp;
    if (r.timestamp >= t.lastSeen) Object.assign(t, { lastSeen: r.timestamp, title: g.title, culprit: g.culprit, level: r.level });
  }
  if (!tallies.size) return 0;
  const rows = [...tallies.values()].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  await em.query(
    `UPDATE issues AS i SET
       times_seen  = i.times_seen + v.n,
       first_seen  = LEAST(i.first_seen, v.first_seen),
       last_seen   = GREATEST(i.last_seen, v.last_seen),
       title       = CASE WHEN v.last_seen >= i.last_seen THEN v.title ELSE i.title END,
       culprit     = CASE WHEN v.last_seen >= i.last_seen THEN v.culprit ELSE i.culprit END,
       level       = CASE WHEN v.last_seen >= i.last_seen THEN v.level ELSE i.level END,
       status      = CASE WHEN i.status = 'resolved' THEN 'unresolved' ELSE i.status END,
       resolved_at = CASE WHEN i.status = 'resolved' THEN NULL ELSE i.resolved_at END,
       updated_at  = now()
     FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[], $7::text[])
          AS v(id, n, first_seen, last_seen, title, culprit, level)
     WHERE i.id = v.id`,
    [
      rows.map((t) => t.id),
      rows.map((t) => t.count),
      rows.map((t) => t.firstSeen),
      rows.map((t) => t.lastSeen),
      rows.map((t) => t.title),
      rows.map((t) => t.culprit),
      rows.map((t) => t.level),
    ],
  );
  return rows.length;
}

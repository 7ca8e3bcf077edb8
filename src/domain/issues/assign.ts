import type { Sql } from '../../db/sql.ts';
import type { EventRecord } from '../events/record.ts';
import type { IssueLink } from '../events/store.ts';
import type { EventData } from '../events/structured.ts';
import { duplicateOf } from './duplicates.ts';
import { groupEvent, type Grouping } from './fingerprint.ts';

/** Error events, and error-or-worse logs from any door, become issues (as Sentry's logging integrations do). */
export const isGroupable = (r: EventRecord) => r.kind === 'error' || r.level === 'error' || r.level === 'critical';

const keyOf = (projectId: number, fingerprint: string) => `${projectId}:${fingerprint}`;

/**
 * Issue ids by (project, fingerprint), per worker process. Issues are only ever removed
 * with their project, so an id once known stays right; with it, a batch whose issues
 * all exist is stored in a single statement. Bounded; cleared on any doubt.
 */
export class IssueIdCache {
  private readonly ids = new Map<string, string>();
  constructor(private readonly max = 100_000) {}
  get(key: string): string | undefined {
    return this.ids.get(key);
  }
  set(key: string, id: string): void {
    if (this.ids.size >= this.max) this.ids.delete(this.ids.keys().next().value!);
    this.ids.set(key, id);
  }
  clear(): void {
    this.ids.clear();
  }
}

/** The grouping input of a stored record: its structured exceptions when it has them (src/domain/events/structured.ts). */
export function groupingOf(r: EventRecord): Grouping {
  const data = (r.data ?? undefined) as EventData | undefined;
  return groupEvent({
    exception_type: r.exception_type,
    message: r.message,
    stacktrace: r.stacktrace,
    frames: r.grouping?.frames,
    fingerprint: r.grouping?.fingerprint,
    exceptions: data?.exceptions,
    template: data?.logentry?.message,
  });
}

/**
 * groupingOf for every wanted record of a batch, computed once per distinct input: a
 * batch usually holds many events of the same error (same type, message and traceback —
 * with packed jobs even the same `data` object, src/queues/pack.ts), and parsing frames
 * and hashing them twice (versions 2 and 1) is the worker's largest per-event cost.
 * Grouping is a pure function of these fields, so sharing its result changes nothing.
 */
function groupingsOf(records: EventRecord[], wanted: (r: EventRecord, i: number) => boolean): Array<Grouping | null> {
  const memo = new Map<string, Array<{ r: EventRecord; g: Grouping }>>();
  return records.map((r, i) => {
    if (!wanted(r, i)) return null;
    const key = `${r.exception_type ?? ''}\u0000${r.message}\u0000${r.stacktrace ?? ''}`;
    const seen = memo.get(key);
    const same = seen?.find((c) => (c.r.data ?? null) === (r.data ?? null) && (c.r.grouping ?? null) === (r.grouping ?? null));
    if (same) return same.g;
    const g = groupingOf(r);
    if (seen) {
      if (seen.length < 8) seen.push({ r, g });
    } else memo.set(key, [{ r, g }]);
    return g;
  });
}

interface Wanted {
  projectId: number;
  g: Grouping;
  r: EventRecord;
}

/**
 * Before a batch is stored: makes sure every issue it needs exists (new ones start at
 * times_seen 0, and are committed before the events go in; the statement that stores the
 * events counts them — src/domain/events/store.ts) and answers each record's issue link,
 * or null for records that are not grouped. No statement at all when every issue is
 * already known.
 */
export async function prepareIssues(sql: Sql, records: EventRecord[], cache: IssueIdCache): Promise<Array<IssueLink | null>> {
  // A Sentry error log about an exception that was also captured as an event opens no issue of its own.
  const duplicates = await duplicateOf(sql, records);
  const groupings = groupingsOf(records, (r, i) => isGroupable(r) && !duplicates[i]);
  const wanted = new Map<string, Wanted>();
  records.forEach((r, i) => {
    const g = groupings[i];
    const key = g ? keyOf(r.project_id, g.fingerprint) : null;
    if (g && key && !cache.get(key)) wanted.set(key, { projectId: r.project_id, g, r });
  });
  if (wanted.size) await createIssues(sql, wanted, cache);
  return records.map((r, i) => {
    const g = groupings[i];
    const issueId = g ? cache.get(keyOf(r.project_id, g.fingerprint)) : undefined;
    return g && issueId ? { issueId, title: g.title, culprit: g.culprit } : null;
  });
}

async function createIssues(sql: Sql, wanted: Map<string, Wanted>, cache: IssueIdCache): Promise<void> {
  // Sorted, so two batches creating the same issues take their locks in the same order.
  const rows = [...wanted.values()].sort((a, b) => a.projectId - b.projectId || a.g.fingerprint.localeCompare(b.g.fingerprint));
  const keys = [rows.map((x) => x.projectId), rows.map((x) => x.g.fingerprint)];
  // An issue made by an older grouping version (matched by `legacy`) takes the event, so
  // changing the rules never splits an issue; otherwise a new issue under the current one.
  const { rows: found } = await sql.query<{ id: string; project_id: number; fingerprint: string }>(
    `WITH k AS (
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::smallint[])
         AS k(project_id, fingerprint, title, culprit, level, ts, legacy, release, version)
     ), existing AS (
       SELECT DISTINCT ON (k.project_id, k.fingerprint) k.project_id, k.fingerprint, i.id
         FROM k JOIN issues i ON i.project_id = k.project_id AND (i.fingerprint = k.fingerprint OR i.fingerprint = k.legacy)
        ORDER BY k.project_id, k.fingerprint, (i.fingerprint = k.fingerprint) DESC, i.id
     ), created AS (
       INSERT INTO issues (project_id, fingerprint, title, culprit, level, first_seen, last_seen, times_seen, first_release, last_release, grouping_version)
       SELECT project_id, fingerprint, title, culprit, level, ts, ts, 0, release, release, version FROM k
        WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.project_id = k.project_id AND e.fingerprint = k.fingerprint)
       ON CONFLICT (project_id, fingerprint) DO NOTHING
       RETURNING id, project_id, fingerprint
     )
     SELECT id, project_id, fingerprint FROM created
     UNION ALL
     SELECT id, project_id, fingerprint FROM existing`,
    [
      ...keys,
      rows.map((x) => x.g.title),
      rows.map((x) => x.g.culprit),
      rows.map((x) => x.r.level),
      rows.map((x) => x.r.timestamp),
      rows.map((x) => x.g.legacy ?? null),
      rows.map((x) => x.r.release ?? null),
      rows.map((x) => x.g.version),
    ],
  );
  const idOf = new Map(found.map((f) => [keyOf(f.project_id, f.fingerprint), f.id]));
  if (idOf.size < wanted.size) {
    // Another worker created some of these after this statement's snapshot: read them now.
    const { rows: late } = await sql.query<{ id: string; project_id: number; fingerprint: string }>(
      `SELECT DISTINCT ON (k.project_id, k.fingerprint) i.id, k.project_id, k.fingerprint
         FROM unnest($1::int[], $2::text[], $3::text[]) AS k(project_id, fingerprint, legacy)
         JOIN issues i ON i.project_id = k.project_id AND (i.fingerprint = k.fingerprint OR i.fingerprint = k.legacy)
        ORDER BY k.project_id, k.fingerprint, (i.fingerprint = k.fingerprint) DESC, i.id`,
      [...keys, rows.map((x) => x.g.legacy ?? null)],
    );
    for (const f of late) idOf.set(keyOf(f.project_id, f.fingerprint), f.id);
  }
  for (const [key, id] of idOf) cache.set(key, id);
}

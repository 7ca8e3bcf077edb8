import type { DataSource } from 'typeorm';
import type { Sql } from '../../db/sql.ts';
import type { EventRecord } from './record.ts';
import { valuesWithoutDuplicates } from '../partitions/dedupe.ts';

const COLUMNS = [
  'project_id',
  'event_id',
  'kind',
  'event_type',
  'timestamp',
  'received_at',
  'level',
  'message',
  'exception_type',
  'stacktrace',
  'environment',
  'service',
  'user_ref',
  'tags',
  'extra',
  'origin',
  'trace_id',
  'span_id',
  'release',
  'data',
  'scrubbed',
] as const satisfies ReadonlyArray<keyof EventRecord>;
// Plus issue_id, which comes from grouping, not from the record.
const WIDTH = COLUMNS.length + 1;

const TYPES: Record<string, string> = {
  project_id: 'int',
  event_id: 'varchar',
  kind: 'varchar',
  event_type: 'varchar',
  timestamp: 'timestamptz',
  received_at: 'timestamptz',
  level: 'varchar',
  message: 'text',
  exception_type: 'varchar',
  stacktrace: 'text',
  environment: 'varchar',
  service: 'varchar',
  user_ref: 'varchar',
  tags: 'jsonb',
  extra: 'jsonb',
  origin: 'varchar',
  trace_id: 'varchar',
  span_id: 'varchar',
  release: 'varchar',
  data: 'jsonb',
  scrubbed: 'jsonb',
  issue_id: 'bigint',
};

// 22 columns × 1000 rows stays well under PostgreSQL's 65535 bind parameters.
const ROWS_PER_STATEMENT = 1000;
const COLUMN_LIST = [...COLUMNS, 'issue_id'].map((c) => `"${c}"`).join(', ');

/**
 * Inserts events and counts the new ones into their issues, in ONE statement: the insert
 * answers only rows that were new (ON CONFLICT DO NOTHING — re-delivered jobs and client
 * retries insert nothing), and the same statement adds exactly those to the issues'
 * counters, so counts can never drift from rows. Issue rows are locked in id order
 * first, so concurrent workers queue up instead of deadlocking.
 */
function insertSql(rows: number): string {
  // A client's retry stamped with another time is one event too, within a day (src/domain/partitions/dedupe.ts).
  const source = valuesWithoutDuplicates({
    table: 'events',
    columns: [...COLUMNS, 'issue_id'],
    types: TYPES,
    rows,
    keys: ['project_id', 'event_id'],
    time: 'timestamp',
    width: WIDTH,
  });
  return `WITH fresh AS (
      INSERT INTO events (${COLUMN_LIST}) ${source}
      ON CONFLICT (project_id, event_id, "timestamp") DO NOTHING
      RETURNING id, project_id, event_id, updated_at, issue_id, "timestamp", received_at, level, release, user_ref
    ), titles AS (
      SELECT * FROM unnest($${rows * WIDTH + 1}::int[], $${rows * WIDTH + 2}::text[], $${rows * WIDTH + 3}::text[], $${rows * WIDTH + 4}::text[])
        AS t(project_id, event_id, title, culprit)
    ), counts AS (
      -- title, culprit and level follow the latest event, as Sentry's do; SDK clocks tick
      -- in milliseconds, so events of the same instant go by when they reached the API
      SELECT f.issue_id, min(f.project_id) AS project_id, count(*) AS n, min(f."timestamp") AS first_seen, max(f."timestamp") AS last_seen,
             (array_agg(f.level ORDER BY f."timestamp" DESC, f.received_at DESC, f.id DESC))[1] AS level,
             (array_agg(t.title ORDER BY f."timestamp" DESC, f.received_at DESC, f.id DESC))[1] AS title,
             (array_agg(t.culprit ORDER BY f."timestamp" DESC, f.received_at DESC, f.id DESC))[1] AS culprit,
             (array_agg(f.release ORDER BY f.release IS NULL, f."timestamp" DESC, f.received_at DESC, f.id DESC))[1] AS release
        FROM fresh f JOIN titles t USING (project_id, event_id) WHERE f.issue_id IS NOT NULL GROUP BY f.issue_id
    ), locked AS MATERIALIZED (
      -- under the lock, what the issue was before this batch
      SELECT id, status, resolution, resolved_in_release, ignore_until, ignore_until_times, times_seen
        FROM issues WHERE id IN (SELECT issue_id FROM counts) ORDER BY id FOR UPDATE
    ), reopen AS (
      -- A resolved issue that happens again is a regression — unless it was resolved in a
      -- release and this event comes from an older one (src/domain/issues/workflow.ts).
      -- An ignored one comes back once its condition (a date, a number of events) is met.
      SELECT l.id, c.project_id, c.release, CASE WHEN l.status = 'resolved' THEN 'regressed' ELSE 'unignored' END AS why
        FROM locked l JOIN counts c ON c.issue_id = l.id
       WHERE (l.status = 'resolved' AND (
                coalesce(l.resolution, 'now') = 'now'
                OR EXISTS (
                  SELECT 1 FROM fresh f
                   WHERE f.issue_id = l.id AND f.release IS NOT NULL AND (
                     (l.resolution = 'in_release'
                       AND (f.release = l.resolved_in_release OR faultline_release_newer(f.project_id, f.release, l.resolved_in_release)))
                     OR (l.resolution = 'in_next_release'
                       AND (l.resolved_in_release IS NULL
                            OR (f.release <> l.resolved_in_release AND faultline_release_newer(f.project_id, f.release, l.resolved_in_release))))))))
          OR (l.status = 'ignored' AND (
                (l.ignore_until IS NOT NULL AND c.last_seen >= l.ignore_until)
                OR (l.ignore_until_times IS NOT NULL AND l.times_seen + c.n >= l.ignore_until_times)))
    ), new_users AS (
      INSERT INTO issue_users (issue_id, user_ref)
      SELECT DISTINCT f.issue_id, f.user_ref FROM fresh f WHERE f.issue_id IS NOT NULL AND f.user_ref IS NOT NULL
      ON CONFLICT DO NOTHING
      RETURNING issue_id
    ), hourly AS (
      -- the issue page's frequency chart (UTC hours)
      INSERT INTO issue_hourly AS h (issue_id, bucket, n)
      SELECT f.issue_id, date_trunc('hour', f."timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', count(*)
        FROM fresh f WHERE f.issue_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (issue_id, bucket) DO UPDATE SET n = h.n + EXCLUDED.n
    ), user_counts AS (
      SELECT issue_id, count(*) AS n FROM new_users GROUP BY issue_id
    ), bumped AS (
      UPDATE issues i SET
        times_seen  = i.times_seen + c.n,
        users_seen  = i.users_seen + coalesce(u.n, 0),
        first_seen  = LEAST(i.first_seen, c.first_seen),
        last_seen   = GREATEST(i.last_seen, c.last_seen),
        level       = CASE WHEN c.last_seen >= i.last_seen THEN c.level ELSE i.level END,
        title       = CASE WHEN c.last_seen >= i.last_seen THEN c.title ELSE i.title END,
        culprit     = CASE WHEN c.last_seen >= i.last_seen THEN c.culprit ELSE i.culprit END,
        last_release = CASE WHEN c.release IS NOT NULL AND (c.last_seen >= i.last_seen OR i.last_release IS NULL) THEN c.release ELSE i.last_release END,
        status      = CASE WHEN r.id IS NOT NULL THEN 'unresolved' ELSE i.status END,
        substatus   = CASE WHEN r.why = 'regressed' THEN 'regressed' WHEN r.id IS NOT NULL THEN 'ongoing' ELSE i.substatus END,
        resolved_at = CASE WHEN r.id IS NOT NULL THEN NULL ELSE i.resolved_at END,
        resolution  = CASE WHEN r.id IS NOT NULL THEN NULL ELSE i.resolution END,
        resolved_in_release = CASE WHEN r.id IS NOT NULL THEN NULL ELSE i.resolved_in_release END,
        ignore_until        = CASE WHEN r.id IS NOT NULL THEN NULL ELSE i.ignore_until END,
        ignore_until_times  = CASE WHEN r.id IS NOT NULL THEN NULL ELSE i.ignore_until_times END,
        updated_at  = now()
      FROM counts c JOIN locked l ON l.id = c.issue_id
        LEFT JOIN reopen r ON r.id = c.issue_id
        LEFT JOIN user_counts u ON u.issue_id = c.issue_id
      WHERE i.id = c.issue_id
      RETURNING i.id, i.project_id, l.times_seen = 0 AS is_new, coalesce(r.why = 'regressed', false) AS regressed
    ), reopened AS (
      INSERT INTO issue_activity (issue_id, project_id, kind, data)
      SELECT r.id, r.project_id, r.why, jsonb_strip_nulls(jsonb_build_object('release', r.release)) FROM reopen r
    ), signals AS (
      -- the alerts outbox, in the same statement: an issue's first events, or a regression
      -- (src/domain/alerts/signals.ts); exactly once, since the row lock orders the batches
      INSERT INTO alert_signals (project_id, issue_id, kind, event_row_id)
      SELECT b.project_id, b.id, CASE WHEN b.is_new THEN 'issue.new' ELSE 'issue.regressed' END,
             (SELECT min(f.id) FROM fresh f WHERE f.issue_id = b.id)
        FROM bumped b WHERE b.is_new OR b.regressed
      RETURNING id, project_id
    )
    SELECT id, project_id, event_id, updated_at, issue_id, NULL::bigint AS signal_id FROM fresh
    UNION ALL
    SELECT NULL, project_id, NULL, NULL, NULL, id FROM signals`;
}

// Statement text per batch size; bounded, since a 1000-row statement is ~100 KB of text.
const sqlCache = new Map<number, string>();
function sqlFor(rows: number): string {
  let text = sqlCache.get(rows);
  if (!text) {
    if (sqlCache.size >= 64) sqlCache.delete(sqlCache.keys().next().value!);
    sqlCache.set(rows, (text = insertSql(rows)));
  }
  return text;
}

/** Where a record goes: its issue, and the title and culprit it gives that issue. */
export interface IssueLink {
  issueId: string;
  title: string;
  culprit: string | null;
}

function params(records: EventRecord[], links: ReadonlyArray<IssueLink | null> | undefined, offset: number): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<string>();
  const projects: number[] = [];
  const ids: string[] = [];
  const titles: string[] = [];
  const culprits: Array<string | null> = [];
  records.forEach((r, i) => {
    for (const c of COLUMNS) {
      const v = r[c];
      // jsonb columns: pass JSON text (node-postgres would turn a top-level array into a PG array).
      out.push(
        c === 'tags' || c === 'extra' ? JSON.stringify(v) : c === 'data' || c === 'scrubbed' ? (v ? JSON.stringify(v) : null) : (v ?? null),
      );
    }
    const link = links?.[offset + i] ?? null;
    out.push(link?.issueId ?? null);
    // One title row per event: a duplicate in the batch is inserted once, so counts once.
    const key = `${r.project_id}:${r.event_id}`;
    if (link && !seen.has(key)) {
      seen.add(key);
      projects.push(r.project_id);
      ids.push(r.event_id);
      titles.push(link.title);
      culprits.push(link.culprit);
    }
  });
  out.push(projects, ids, titles, culprits);
  return out;
}

export interface InsertedEvent {
  id: string;
  project_id: number;
  event_id: string;
  updated_at: Date;
  issue_id: string | null;
}

export interface StoredBatch {
  /** The rows that were new: what the live tail publishes and the alert counters count. */
  events: InsertedEvent[];
  /** alert_signals rows the statement wrote (issues created or reopened), for the alerts queue. */
  signalIds: string[];
}

/** One statement per 1000 records (see insertSql), each record with its issue or null. */
export async function insertEvents(sql: Sql, records: EventRecord[], links?: ReadonlyArray<IssueLink | null>): Promise<StoredBatch> {
  const out: StoredBatch = { events: [], signalIds: [] };
  for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
    const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
    // Named: each connection parses and plans this statement once per batch size, not per job.
    const { rows } = await sql.query<InsertedEvent & { signal_id: string | null }>({
      name: `faultline_store_events_${chunk.length}`,
      text: sqlFor(chunk.length),
      values: params(chunk, links, i),
    });
    for (const row of rows) {
      if (row.signal_id !== null) out.signalIds.push(row.signal_id);
      else
        out.events.push({
          id: row.id,
          project_id: row.project_id,
          event_id: row.event_id,
          updated_at: row.updated_at,
          issue_id: row.issue_id,
        });
    }
  }
  return out;
}

/** Project ids among `ids` that still exist (a project may be deleted while its events wait in the queue). */
export async function existingProjects(ds: DataSource, ids: number[]): Promise<Set<number>> {
  const rows: Array<{ id: number }> = await ds.query(`SELECT id FROM projects WHERE id = ANY($1::int[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

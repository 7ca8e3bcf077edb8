/**
 * What the issue page reads beyond the issue row: tag facets, the frequency chart, and
 * one event in full (structured data, neighbours for older/newer navigation). Every
 * query walks the (issue_id, timestamp, id) index and is bounded, so the page costs the
 * same for an issue with a hundred events as for one with millions.
 */
import type { DataSource } from 'typeorm';
import { notFound } from '../errors.ts';
import { EVENT_COLUMNS, serializeEvent, type EventRow } from '../events/query.ts';
import { withMapsApplied } from '../sourcemaps/symbolicate.ts';
import { listAttachments, type AttachmentRow } from '../attachments/attachments.ts';

/** Facets count the latest events of the issue, at most this many. */
export const FACET_SAMPLE = 3_000;
const TOP_VALUES = 5;
const MAX_KEYS = 20;
/** Shown first, in this order; the rest by how many events carry them. */
const KEY_ORDER = [
  'environment',
  'release',
  'browser',
  'os',
  'server_name',
  'runtime',
  'device',
  'level',
  'transaction',
  'dist',
  'platform',
];
/** Duplicates of a shown key, or not useful as a facet. */
const HIDDEN_KEYS = new Set(['browser.name', 'os.name', 'runtime.name', 'device.name', 'sentry:release', 'logger']);

export interface Facet {
  key: string;
  /** Events (of the sample) that carry the key. */
  total: number;
  top: Array<{ value: string; count: number; share: number }>;
}

export async function issueFacets(ds: DataSource, issueId: string, sample = FACET_SAMPLE): Promise<{ sampled: number; facets: Facet[] }> {
  const rows: Array<{ key: string; value: string; n: number; sampled: number }> = await ds.query(
    `WITH recent AS MATERIALIZED (
       SELECT environment, release, level, tags FROM events WHERE issue_id = $1 ORDER BY "timestamp" DESC, id DESC LIMIT $2
     ), pairs AS (
       SELECT 'environment' AS key, environment AS value FROM recent WHERE environment IS NOT NULL
       UNION ALL SELECT 'release', release FROM recent WHERE release IS NOT NULL
       UNION ALL SELECT 'level', level FROM recent
       UNION ALL SELECT t.key, left(t.value #>> '{}', 200) FROM recent, jsonb_each(recent.tags) t
        WHERE t.key NOT IN ('environment', 'release', 'level') AND jsonb_typeof(t.value) IN ('string', 'number', 'boolean')
     )
     SELECT key, value, count(*)::int AS n, (SELECT count(*)::int FROM recent) AS sampled FROM pairs GROUP BY key, value`,
    [issueId, sample],
  );
  const byKey = new Map<string, Array<{ value: string; n: number }>>();
  for (const r of rows) {
    if (HIDDEN_KEYS.has(r.key)) continue;
    let list = byKey.get(r.key);
    if (!list) byKey.set(r.key, (list = []));
    list.push({ value: r.value, n: r.n });
  }
  const facets: Facet[] = [...byKey].map(([key, values]) => {
    const total = values.reduce((s, v) => s + v.n, 0);
    values.sort((a, b) => b.n - a.n || (a.value < b.value ? -1 : 1));
    return {
      key,
      total,
      top: values.slice(0, TOP_VALUES).map((v) => ({ value: v.value, count: v.n, share: Math.round((v.n / total) * 1000) / 10 })),
    };
  });
  const rank = (k: string) => (KEY_ORDER.includes(k) ? KEY_ORDER.indexOf(k) : KEY_ORDER.length);
  facets.sort((a, b) => rank(a.key) - rank(b.key) || b.total - a.total || (a.key < b.key ? -1 : 1));
  return { sampled: rows[0]?.sampled ?? 0, facets: facets.slice(0, MAX_KEYS) };
}

export type Period = '24h' | '30d';

/**
 * Events per hour over the last 24 hours, or per day over the last 30 days (UTC); empty
 * buckets included. Read from the hourly counters the store statement keeps (issue_hourly).
 */
export async function issueFrequency(ds: DataSource, issueId: string, period: Period): Promise<Array<{ t: string; count: number }>> {
  const [unit, span] = period === '24h' ? ['hour', '23 hours'] : ['day', '29 days'];
  const rows: Array<{ bucket: Date; n: number }> = await ds.query(
    `WITH now_utc AS (SELECT date_trunc('${unit}', now() AT TIME ZONE 'UTC') AS t),
     b AS (SELECT generate_series(t - interval '${span}', t, interval '1 ${unit}') AS bucket FROM now_utc),
     c AS (
       SELECT date_trunc('${unit}', h.bucket AT TIME ZONE 'UTC') AS bucket, sum(h.n) AS n
         FROM issue_hourly h, now_utc
        WHERE h.issue_id = $1 AND h.bucket >= (now_utc.t - interval '${span}') AT TIME ZONE 'UTC'
        GROUP BY 1
     )
     SELECT b.bucket AT TIME ZONE 'UTC' AS bucket, coalesce(c.n, 0)::int AS n FROM b LEFT JOIN c USING (bucket) ORDER BY b.bucket`,
    [issueId],
  );
  return rows.map((r) => ({ t: r.bucket.toISOString(), count: r.n }));
}

interface FullEventRow extends EventRow {
  release: string | null;
  data: Record<string, unknown> | null;
  user_ref: string | null;
  project_id: number;
}

const FULL = `SELECT ${EVENT_COLUMNS}, project_id, release, data, user_ref FROM events`;

export function serializeEventDetail(r: FullEventRow, attachments: AttachmentRow[] = []) {
  return { ...serializeEvent(r), project: r.project_id, release: r.release, user_ref: r.user_ref, data: r.data ?? {}, attachments };
}
export type EventDetail = ReturnType<typeof serializeEventDetail> & {
  previous_event_id: string | null;
  next_event_id: string | null;
  mapped_at_view?: boolean;
};

/**
 * One event of the issue — `latest`, `oldest`, or by event id — in full, with the ids of
 * the events just older and newer (in the issue's time order) for navigation.
 */
export async function issueEvent(ds: DataSource, issue: { id: string; projectId: number }, which: string): Promise<EventDetail> {
  let rows: FullEventRow[];
  if (which === 'latest' || which === 'oldest') {
    const dir = which === 'latest' ? 'DESC' : 'ASC';
    rows = await ds.query(`${FULL} WHERE issue_id = $1 ORDER BY "timestamp" ${dir}, id ${dir} LIMIT 1`, [issue.id]);
  } else {
    rows = await ds.query(`${FULL} WHERE project_id = $1 AND event_id = $2 AND issue_id = $3`, [issue.projectId, which, issue.id]);
  }
  const row = rows[0];
  if (!row) throw notFound('Event not found');
  const [prev, next, attachments] = (await Promise.all([
    ds.query(
      `SELECT event_id FROM events WHERE issue_id = $1 AND ("timestamp", id) < ($2, $3) ORDER BY "timestamp" DESC, id DESC LIMIT 1`,
      [issue.id, row.timestamp, row.id],
    ),
    ds.query(`SELECT event_id FROM events WHERE issue_id = $1 AND ("timestamp", id) > ($2, $3) ORDER BY "timestamp", id LIMIT 1`, [
      issue.id,
      row.timestamp,
      row.id,
    ]),
    listAttachments(ds, row.project_id, row.event_id),
  ])) as [Array<{ event_id: string }>, Array<{ event_id: string }>, AttachmentRow[]];
  return {
    ...(await withMapsApplied(ds, serializeEventDetail(row, attachments))),
    previous_event_id: prev[0]?.event_id ?? null,
    next_event_id: next[0]?.event_id ?? null,
  };
}

/**
 * Any event of a project (GET /api/projects/{id}/events/{event_id}/), by its event id or,
 * when none has that event id, by the numeric id the lists carry. Another project's
 * event is not found, as in the lists.
 */
export async function projectEvent(ds: DataSource, projectId: number, eventId: string) {
  let rows: FullEventRow[] = await ds.query(`${FULL} WHERE project_id = $1 AND event_id = $2`, [projectId, eventId]);
  if (!rows[0] && /^\d{1,18}$/.test(eventId)) rows = await ds.query(`${FULL} WHERE project_id = $1 AND id = $2`, [projectId, eventId]);
  if (!rows[0]) throw notFound('Event not found');
  return withMapsApplied(ds, serializeEventDetail(rows[0], await listAttachments(ds, projectId, rows[0].event_id)));
}

/**
 * One error, one issue. An SDK that captures an exception *and* logs it (Sentry's
 * `logger.error`, pino or winston through the SDK) sends the same error twice: an event
 * and an error-level log record in the same trace. The log is kept as a log, but it
 * does not open an issue of its own when an error event of the same project and trace
 * is about the same exception:
 *  - the log's `exception.type` attribute, when it has one, is the event's type, and
 *  - its `exception.message` attribute is the event's message, or — without one — the
 *    log's text contains the event's message.
 * The event may be in the same batch, in a batch this worker process is storing at the
 * same time (remembered for a few minutes, below), or already stored. SDKs also send the
 * log first at times (their log buffer is flushed before the event's transport): then the
 * log did open an issue, and it is undone once both are stored — the log leaves that
 * issue, whose count drops, and an issue left with no events is deleted (unlinkDuplicateLogs).
 */
import type { Sql } from '../../db/sql.ts';
import type { EventRecord } from '../events/record.ts';

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

// Both kinds carry their trace in events.trace_id (Sentry's contexts.trace for events, the log item's trace_id for logs).
const traceOfEvent = (r: EventRecord) => str(r.trace_id);
const traceOfLog = (r: EventRecord) => str(r.trace_id);

export const isSentryErrorLog = (r: EventRecord) =>
  r.origin === 'sentry' && r.kind === 'log' && (r.level === 'error' || r.level === 'critical') && Boolean(traceOfLog(r));

interface ErrorEvent {
  eventId: string;
  type: string;
  message: string;
}

/** Error events by trace that this process saw lately, committed or not yet: concurrent batches see each other. */
class RecentErrors {
  private readonly byKey = new Map<string, { at: number; events: ErrorEvent[] }>();
  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly max = 20_000,
  ) {}
  add(key: string, e: ErrorEvent, now = Date.now()): void {
    const hit = this.byKey.get(key);
    if (hit && now - hit.at < this.ttlMs) {
      if (hit.events.length < 20 && !hit.events.some((x) => x.eventId === e.eventId)) hit.events.push(e);
      return;
    }
    if (this.byKey.size >= this.max) this.byKey.delete(this.byKey.keys().next().value!);
    this.byKey.set(key, { at: now, events: [e] });
  }
  get(key: string, now = Date.now()): ErrorEvent[] {
    const hit = this.byKey.get(key);
    return hit && now - hit.at < this.ttlMs ? hit.events : [];
  }
}
const recent = new RecentErrors();

export function sameError(log: EventRecord, event: ErrorEvent): boolean {
  const attrs = ((log.extra.attributes ?? {}) as Obj) || {};
  const type = str(attrs['exception.type']);
  const message = str(attrs['exception.message']);
  if (type && type !== event.type) return false;
  if (message) return message === event.message;
  return event.message.trim().length >= 3 && log.message.includes(event.message.trim());
}

/**
 * For each record: the event id it duplicates, when it is a Sentry error log whose error
 * was captured as an event (in `records` or already stored); null otherwise.
 */
export async function duplicateOf(sql: Sql, records: EventRecord[]): Promise<Array<string | null>> {
  const logs = records.map((r, i) => (isSentryErrorLog(r) ? i : -1)).filter((i) => i >= 0);
  const out: Array<string | null> = records.map(() => null);
  const byTrace = new Map<string, ErrorEvent[]>();
  const add = (projectId: number, trace: string, e: ErrorEvent) => {
    const key = `${projectId}:${trace}`;
    const list = byTrace.get(key);
    if (list) list.push(e);
    else byTrace.set(key, [e]);
  };
  for (const r of records) {
    const trace = r.kind === 'error' && r.exception_type ? traceOfEvent(r) : undefined;
    if (trace) recent.add(`${r.project_id}:${trace}`, { eventId: r.event_id, type: r.exception_type!, message: r.message });
  }
  if (!logs.length) return out;
  for (const i of logs)
    for (const e of recent.get(`${records[i].project_id}:${traceOfLog(records[i])}`))
      add(records[i].project_id, traceOfLog(records[i])!, e);
  const wanted = logs.map((i) => records[i]);
  const { rows } = await sql.query<{ project_id: number; trace: string; event_id: string; exception_type: string; message: string }>(
    `SELECT e.project_id, k.trace, e.event_id, e.exception_type, left(e.message, 10000) AS message
       FROM unnest($1::int[], $2::text[]) AS k(project_id, trace)
       JOIN LATERAL (
         SELECT project_id, event_id, exception_type, message FROM events
          WHERE trace_id = k.trace AND kind = 'error' AND project_id = k.project_id AND exception_type IS NOT NULL
          ORDER BY "timestamp" DESC LIMIT 20
       ) e ON true`,
    [wanted.map((r) => r.project_id), wanted.map((r) => traceOfLog(r)!)],
  );
  for (const row of rows) add(row.project_id, row.trace, { eventId: row.event_id, type: row.exception_type, message: row.message });
  for (const i of logs) {
    const r = records[i];
    const match = byTrace.get(`${r.project_id}:${traceOfLog(r)}`)?.find((e) => sameError(r, e));
    if (match) out[i] = match.eventId;
  }
  return out;
}

/**
 * After a batch is stored: Sentry error logs stored *before* their event (the other
 * order) leave the issue they opened; an issue left without events goes. Idempotent
 * (a log already unlinked is not counted again). Answers how many issues were deleted.
 */
export async function unlinkDuplicateLogs(sql: Sql, records: EventRecord[]): Promise<number> {
  const ids: string[] = [];
  // (a) This batch's error events: stored logs in their traces that opened issues.
  const events = records.filter((r) => r.kind === 'error' && r.exception_type && traceOfEvent(r));
  if (events.length) {
    const { rows } = await sql.query<{ id: string; project_id: number; trace: string; message: string; attributes: Obj | null }>(
      `SELECT l.id, l.project_id, k.trace, left(l.message, 10000) AS message, l.extra -> 'attributes' AS attributes
         FROM unnest($1::int[], $2::text[]) AS k(project_id, trace)
         JOIN events l ON l.trace_id = k.trace AND l.project_id = k.project_id
        WHERE l.kind = 'log' AND l.origin = 'sentry' AND l.level IN ('error', 'critical') AND l.issue_id IS NOT NULL
        LIMIT 1000`,
      [events.map((r) => r.project_id), events.map((r) => traceOfEvent(r)!)],
    );
    for (const l of rows) {
      const log = { message: l.message, extra: { attributes: l.attributes ?? {} } } as unknown as EventRecord;
      if (
        events.some(
          (e) =>
            e.project_id === l.project_id &&
            traceOfEvent(e) === l.trace &&
            sameError(log, { eventId: e.event_id, type: e.exception_type!, message: e.message }),
        )
      )
        ids.push(l.id);
    }
  }
  // (b) This batch's error logs, checked again now that they are committed: an event stored
  // meanwhile by a concurrent batch is visible now (each side checks after its own commit,
  // so at least one of the two sees the other).
  const logs = records.filter(isSentryErrorLog);
  if (logs.length) {
    const dup = await duplicateOf(sql, logs);
    const keys = logs.filter((_, i) => dup[i]);
    if (keys.length) {
      const { rows } = await sql.query<{ id: string }>(
        `SELECT e.id FROM events e JOIN unnest($1::int[], $2::text[]) AS k(project_id, event_id) USING (project_id, event_id) WHERE e.issue_id IS NOT NULL`,
        [keys.map((r) => r.project_id), keys.map((r) => r.event_id)],
      );
      ids.push(...rows.map((r) => r.id));
    }
  }
  if (!ids.length) return 0;
  const { rows: gone } = await sql.query<{ id: string }>(
    `WITH old AS (
       SELECT id, issue_id, "timestamp" FROM events WHERE id = ANY($1::bigint[]) AND issue_id IS NOT NULL ORDER BY id FOR UPDATE
     ), unlinked AS (
       -- RETURNING shows the new row: the issue it left comes from \`old\`
       UPDATE events e SET issue_id = NULL FROM old WHERE e.id = old.id RETURNING old.issue_id, old."timestamp"
     ), hours AS (
       UPDATE issue_hourly h SET n = h.n - u.n
         FROM (SELECT issue_id, date_trunc('hour', "timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket, count(*) AS n FROM unlinked GROUP BY 1, 2) u
        WHERE h.issue_id = u.issue_id AND h.bucket = u.bucket
     ), counts AS (
       SELECT issue_id, count(*) AS n FROM unlinked GROUP BY issue_id
     ), lowered AS (
       -- disjoint from \`gone\`: one statement cannot both update and delete a row
       UPDATE issues i SET times_seen = i.times_seen - c.n, updated_at = now() FROM counts c WHERE i.id = c.issue_id AND i.times_seen - c.n > 0
     )
     DELETE FROM issues i USING counts c WHERE i.id = c.issue_id AND i.times_seen - c.n <= 0 RETURNING i.id`,
    [[...new Set(ids)]],
  );
  return gone.length;
}

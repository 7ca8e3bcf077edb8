/**
 * What a Sentry envelope's items become: event records, spans, sessions, check-ins,
 * attachments and minidumps, each counted (faultline_sentry_items_total) and every drop an
 * outcome — the parsing half of the envelope route (ingest.ts), shared with /store/.
 */
import { Counter } from 'prom-client';
import { AppError, badRequest, payloadTooLarge } from '../../../domain/errors.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import { itemJson, type Envelope, type EnvelopeItem } from '../../../domain/ingest/formats/sentry/envelope.ts';
import { sentryFeedbackToRecord, sentryLogsToRecords, type SentryEventOptions } from '../../../domain/ingest/formats/sentry/normalize.ts';
import { sentryEventItem, type SentryItemResult } from '../../../domain/ingest/formats/sentry/items.ts';
import { sentryTraceItem } from '../../../domain/ingest/formats/sentry/spans.ts';
import type { TraceBundle } from '../../../queues/traceProducer.ts';
import { registry } from '../../../metrics.ts';
import type { AttachmentItem } from '../../../domain/attachments/attachments.ts';
import { sessionItemMarks, type SessionMark } from '../../../domain/sessions/normalize.ts';
import { checkInFromSentry } from '../../../domain/ingest/formats/sentry/checkIn.ts';
import type { CheckInRecord } from '../../../domain/alerts/checkInRecord.ts';
import { recordOutcome } from '../../../domain/outcomes/recorder.ts';
import { itemCategory, itemTypeName, type Category } from '../../../domain/outcomes/categories.ts';
import { clientReportOutcomes } from '../../../domain/outcomes/clientReports.ts';

/** Sentry's own limits: 1 MB per event item, 20 MB compressed / 100 MB decompressed per envelope. */
export const SENTRY_LIMITS = { eventBytes: 1 << 20, envelopeBytes: 100 << 20, envelopeCompressedBytes: 20 << 20, storeBytes: 1 << 20 };

export const sentryItems = new Counter({
  name: 'faultline_sentry_items_total',
  help: 'Sentry envelope items received, by type and what happened to them',
  labelNames: ['type', 'outcome'] as const,
  registers: [registry],
});

export interface EnvelopeRecords {
  records: EventRecord[];
  eventId: string | null;
  minidumps: EnvelopeItem[];
  checkIns: CheckInRecord[];
  trace: TraceBundle;
  sessions: SessionMark[];
  attachments: AttachmentItem[];
  /** What will count as `accepted` once queued, for items that are not event records (those are counted from the records). */
  accepted: Map<Category, number>;
}

/**
 * What one event body became, counted: stored records go to `records`, spans to `trace`.
 * Every drop is counted on faultline_sentry_items_total with its reason.
 */
export function placeEventItem(
  result: SentryItemResult,
  type: string,
  records: EventRecord[],
  trace: TraceBundle,
  note: Note,
): string | null {
  switch (result.kind) {
    case 'error':
      records.push(result.record);
      sentryItems.inc({ type, outcome: 'accepted' });
      // outcome: error/invalid_field — the event is kept, the fields of a wrong type are dropped (listed in data.errors).
      if (result.errors.length) sentryItems.inc({ type, outcome: 'invalid_field' }, result.errors.length);
      return result.record.event_id;
    case 'trace':
      trace.spans.push(...result.spans.spans);
      trace.llmLogs.push(...result.spans.llmLogs);
      sentryItems.inc({ type: 'transaction', outcome: 'accepted' }, result.spans.spans.length);
      // outcome: span/invalid — spans with bad ids or times, too many attributes.
      if (result.spans.rejected) sentryItems.inc({ type: 'transaction', outcome: 'rejected' }, result.spans.rejected);
      note.accept('transaction', result.spans.spans.length ? 1 : 0);
      if (result.spans.rejected) note.drop('span', 'invalid', 'invalid_span', result.spans.rejected);
      return result.eventId;
    case 'feedback':
      if (result.record) records.push(result.record);
      // outcome: feedback/invalid — a feedback event without a message.
      sentryItems.inc({ type: 'feedback', outcome: result.record ? 'accepted' : 'skipped' });
      if (!result.record) note.drop('feedback', 'invalid', 'invalid_payload');
      return null;
    case 'filtered':
      // outcome: security/filtered(<reason>) — browser-extension, about:/data:/blob: and other CSP noise.
      sentryItems.inc({ type: 'security', outcome: `filtered_${result.reason}` });
      note.drop('security', 'filtered', result.reason);
      return result.eventId;
    case 'skipped':
      // outcome: error/invalid(unsupported event type) — a `type` that is neither an error nor stored, never an issue.
      sentryItems.inc({ type: 'event', outcome: 'unsupported_type' });
      note.drop('error', 'invalid', 'unsupported_type');
      return result.eventId;
  }
}

/** Where placeEventItem reports what it kept and dropped (outcomes). */
export interface Note {
  accept(category: Category, n?: number): void;
  drop(category: Category, outcome: 'invalid' | 'filtered', reason: string, n?: number): void;
}

/** A Note that records drops at once and keeps nothing to accept (the store route counts its records itself). */
export const noteFor = (projectId: number, keyId?: number): Note => ({
  accept: () => undefined,
  drop: (category, outcome, reason, n = 1) => recordOutcome({ projectId, keyId, category, outcome, reason, quantity: n }),
});

export function recordsOf(
  envelope: Envelope,
  projectId: number,
  receivedAt: string,
  opts: SentryEventOptions = {},
  keyId?: number,
): EnvelopeRecords {
  const records: EventRecord[] = [];
  const trace: TraceBundle = { spans: [], events: [], llmLogs: [] };
  const sessions: SessionMark[] = [];
  const attachments: AttachmentItem[] = [];
  const minidumps: EnvelopeItem[] = [];
  const checkIns: CheckInRecord[] = [];
  let eventId: string | null = null;
  const accepted = new Map<Category, number>();
  const accept = (category: Category, n = 1) => {
    if (n > 0) accepted.set(category, (accepted.get(category) ?? 0) + n);
  };
  // An item read but not kept is an outcome with a reason: nothing is dropped silently.
  const drop = (type: string, reason: string, n = 1) =>
    recordOutcome({ projectId, keyId, category: itemCategory(type), outcome: 'invalid', reason, quantity: n });
  // An envelope mixing good and bad items keeps the good ones; only one with nothing usable is refused.
  let usable = 0;
  const refused: AppError[] = [];
  const badItems: Array<[string, string]> = [];
  const note: Note = {
    accept,
    drop: (category, outcome, reason, n = 1) => recordOutcome({ projectId, keyId, category, outcome, reason, quantity: n }),
  };
  for (const item of envelope.items) {
    const type = item.header.type;
    if (type === 'attachment' && item.header.attachment_type === 'event.minidump') {
      minidumps.push(item);
      accept('attachment');
      usable++;
      sentryItems.inc({ type: 'minidump', outcome: 'accepted' });
      continue;
    }
    if (type === 'attachment') {
      attachments.push({
        filename: item.header.filename,
        contentType: item.header.content_type,
        attachmentType: item.header.attachment_type,
        payload: item.payload,
      });
      accept('attachment');
      usable++;
      sentryItems.inc({ type, outcome: 'accepted' });
      continue;
    }
    let json: unknown;
    if (type === 'event' || type === 'log' || type === 'feedback' || type === 'user_report' || type === 'transaction' || type === 'span') {
      if ((type === 'event' || type === 'transaction') && item.payload.length > SENTRY_LIMITS.eventBytes) {
        // outcome: error/too_large — one event item past Sentry's 1 MB.
        sentryItems.inc({ type, outcome: 'too_large' });
        badItems.push([type, 'too_large']);
        refused.push(payloadTooLarge(`Event item is ${item.payload.length} bytes; the limit is ${SENTRY_LIMITS.eventBytes}`));
        continue;
      }
      try {
        json = itemJson(item);
      } catch (err) {
        // outcome: <type>/invalid(not JSON, or nested too deep) — this item only.
        sentryItems.inc({ type, outcome: 'invalid' });
        badItems.push([type, 'invalid_payload']);
        refused.push(
          err instanceof AppError ? err : badRequest(`Invalid envelope: the ${type} item is not JSON`, { item: type }, 'invalid_envelope'),
        );
        continue;
      }
      if ((type === 'event' || type === 'transaction') && !isObject(json)) {
        // outcome: error/invalid(not an object)
        sentryItems.inc({ type, outcome: 'invalid' });
        badItems.push([type, 'invalid_payload']);
        refused.push(
          badRequest(
            `Invalid envelope: the ${type} item is not a JSON object`,
            { item: type, expected: 'a JSON object' },
            'invalid_envelope',
          ),
        );
        continue;
      }
    }
    usable++;
    if (type === 'event' || type === 'transaction') {
      // A transaction is never an error event, whichever item type it came in.
      const payload = type === 'transaction' ? { ...(json as Record<string, unknown>), type: 'transaction' } : json;
      const id = placeEventItem(
        sentryEventItem(payload, projectId, receivedAt, envelope.header.event_id, opts, envelope.header.trace),
        type,
        records,
        trace,
        note,
      );
      if (type === 'event') eventId ??= id;
    } else if (type === 'log') {
      const logs = sentryLogsToRecords(json, projectId, receivedAt);
      records.push(...logs);
      sentryItems.inc({ type, outcome: 'accepted' }, logs.length);
    } else if (type === 'feedback' || type === 'user_report') {
      const record = sentryFeedbackToRecord(type, json, projectId, receivedAt);
      if (record) records.push(record);
      else drop(type, 'invalid_payload');
      sentryItems.inc({ type, outcome: record ? 'accepted' : 'skipped' });
    } else if (type === 'span') {
      const traced = sentryTraceItem(type, json, projectId, receivedAt, envelope.header.trace);
      trace.spans.push(...traced.spans);
      trace.llmLogs.push(...traced.llmLogs);
      sentryItems.inc({ type, outcome: 'accepted' }, traced.spans.length);
      accept('span', traced.spans.length);
      if (traced.rejected) {
        sentryItems.inc({ type, outcome: 'rejected' }, traced.rejected);
        drop('span', 'invalid_span', traced.rejected);
      }
    } else if (type === 'check_in') {
      // Cron monitors (src/domain/alerts): Sentry.captureCheckIn / withMonitor.
      const checkIn = checkInFromSentry(safeJson(item), projectId, receivedAt);
      if (checkIn) checkIns.push(checkIn);
      if (checkIn) accept('monitor');
      else drop(type, 'invalid_payload');
      sentryItems.inc({ type, outcome: checkIn ? 'accepted' : 'skipped' });
    } else if (type === 'session' || type === 'sessions') {
      // Release health is best effort per item: a bad one is skipped, never fatal to the envelope.
      const marks = sessionItemMarks(type, item, projectId, receivedAt);
      sessions.push(...marks);
      if (marks.length) accept('session');
      else drop(type, 'invalid_payload');
      sentryItems.inc({ type, outcome: marks.length ? 'accepted' : 'skipped' });
    } else if (type === 'client_report') {
      // What the SDK itself discarded (sample rate, before_send, rate limit backoff, …).
      const reported = clientReportOutcomes(safeJson(item), projectId, keyId);
      if (reported) for (const o of reported) recordOutcome(o);
      else drop(type, 'invalid_payload');
      sentryItems.inc({ type, outcome: reported ? 'accepted' : 'skipped' });
    } else {
      // profile, replay, statsd, …: not stored; counted by name as an outcome.
      drop(type, `unsupported_item:${itemTypeName(type)}`);
      sentryItems.inc({ type: KNOWN_SKIPPED.has(type) ? type : 'unknown', outcome: 'skipped' });
    }
  }
  // Nothing usable: the envelope is refused (and that refusal counted, once); else each bad item is an outcome.
  if (refused.length && !usable) throw refused[0];
  for (const [type, reason] of badItems) drop(type, reason);
  return { records, eventId, minidumps, checkIns, trace, sessions, attachments, accepted };
}

export const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

export const safeJson = (item: EnvelopeItem): unknown => {
  try {
    return itemJson(item);
  } catch {
    return null;
  }
};

export const KNOWN_SKIPPED = new Set([
  'client_report',
  'profile',
  'profile_chunk',
  'replay_event',
  'replay_recording',
  'replay_video',
  'statsd',
  'metric_buckets',
  'otel_log',
]);

/** The category an event record counts under. */
export const recordCategory = (r: EventRecord): Category =>
  r.event_type === 'feedback' ? 'feedback' : r.kind === 'error' ? 'error' : 'log';

/** Counts what was queued as `accepted` (after the queue took it: a 503 counts nothing). */
export function countAccepted(projectId: number, keyId: number, records: EventRecord[], others: Map<Category, number>): void {
  const counts = new Map(others);
  for (const r of records) counts.set(recordCategory(r), (counts.get(recordCategory(r)) ?? 0) + 1);
  for (const [category, quantity] of counts) recordOutcome({ projectId, keyId, category, outcome: 'accepted', quantity });
}

/** Attachments and minidumps of a filtered event are not kept either: counted as filtered with it. */
export function dropWithFilteredEvent(projectId: number, keyId: number, parsed: EnvelopeRecords): void {
  const n = parsed.attachments.length + parsed.minidumps.length;
  if (n) recordOutcome({ projectId, keyId, category: 'attachment', outcome: 'filtered', reason: 'event_filtered', quantity: n });
  parsed.accepted.set('attachment', Math.max(0, (parsed.accepted.get('attachment') ?? 0) - n));
  parsed.attachments.length = 0;
  parsed.minidumps.length = 0;
}

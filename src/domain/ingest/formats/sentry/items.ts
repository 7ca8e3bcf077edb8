/**
 * What becomes of one Sentry event body — a /store/ payload, an envelope `event` or
 * `transaction` item, a security report — decided in one place, by the event's type:
 * error events (no type, "error", "default") and security reports become error event
 * records; transactions become spans, never issues; feedback becomes a feedback log;
 * any other type (an unknown or internal one that sneaks in) is counted and dropped,
 * never stored as an error. Security reports that are noise (security.ts) are filtered.
 */
import type { EventRecord } from '../../../events/record.ts';
import { isObj } from '../../../events/structured.ts';
import { classifyEvent, modernizeEvent, type ProcessingError } from './legacy.ts';
import { sentryEventId, sentryEventToRecord, sentryFeedbackToRecord, type SentryEventOptions } from './normalize.ts';
import { securityFilter, type SecurityKind } from './security.ts';
import { sentryTraceItem, type SentrySpans } from './spans.ts';

type Obj = Record<string, unknown>;

export type SentryItemResult =
  | { kind: 'error'; record: EventRecord; errors: ProcessingError[] }
  | { kind: 'trace'; eventId: string; spans: SentrySpans }
  | { kind: 'feedback'; record: EventRecord | null }
  /** Noise (a browser extension's CSP report, …): `reason` is the outcome's. */
  | { kind: 'filtered'; eventId: string; reason: string }
  /** A type that is neither an error nor anything we store: `type` as sent. */
  | { kind: 'skipped'; eventId: string; type: string };

export function sentryEventItem(
  payload: unknown,
  projectId: number,
  receivedAt: string,
  headerEventId?: unknown,
  opts: SentryEventOptions = {},
  envelopeTrace?: unknown,
): SentryItemResult {
  if (!isObj(payload)) return { kind: 'error', ...sentryEventToRecord(payload, projectId, receivedAt, headerEventId, opts) }; // throws the 400
  const eventId = () => sentryEventId(payload.event_id ?? headerEventId);
  const cls = classifyEvent(modernizeEvent(payload).event);
  if (cls === 'transaction')
    return { kind: 'trace', eventId: eventId(), spans: sentryTraceItem('transaction', payload, projectId, receivedAt, envelopeTrace) };
  if (cls === 'feedback') return { kind: 'feedback', record: sentryFeedbackToRecord('feedback', payload, projectId, receivedAt) };
  if (cls === 'other') return { kind: 'skipped', eventId: eventId(), type: String(payload.type).slice(0, 64) };
  const { record, errors } = sentryEventToRecord(payload, projectId, receivedAt, headerEventId, opts);
  const security = (record.data as { security?: { kind: SecurityKind; report: Obj } } | undefined)?.security;
  const reason = security ? securityFilter(security.kind, security.report) : null;
  if (reason) return { kind: 'filtered', eventId: record.event_id, reason };
  return { kind: 'error', record, errors };
}

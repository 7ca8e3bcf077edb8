/**
 * Sentry event payloads (errors, messages, structured logs) onto our EventRecord.
 * Lenient like Sentry's own ingestion: fields of an unexpected type are ignored rather
 * than failing the event; only a payload that is not a JSON object is refused.
 */
import { createHash } from 'node:crypto';
import { badRequest } from '../../../errors.ts';
import { cleanJson, clip, cleanText, newEventId, TimestampSchema, type EventRecord } from '../../../events/record.ts';
import { traceIdsOf } from './spans.ts';
import {
  contextTags,
  eventDataOf,
  exceptionsOf,
  isObj,
  logentryOf,
  type ExceptionData,
  type StructureOptions,
} from '../../../events/structured.ts';
import { normalizeLevel } from '../../../levels.ts';
import { classifyEvent, modernizeEvent, type ProcessingError } from './legacy.ts';
import { securityFields, type SecurityKind } from './security.ts';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** Sentry ids are 32 hex characters; SDKs sometimes send UUIDs with dashes. */
export function sentryEventId(v: unknown): string {
  const s = str(v)?.replaceAll('-', '').toLowerCase();
  return s && /^[0-9a-f]{32}$/.test(s) ? s : newEventId();
}

/** "most recent call last", Python style: the frames in order, then the exception. */
export function stacktraceText(excs: ExceptionData[]): string | null {
  const blocks = excs
    .filter((x) => x.frames.length || x.type)
    .map((x) => {
      const lines = x.frames.length ? ['Traceback (most recent call last):'] : [];
      for (const f of x.frames) {
        const file = f.filename || f.abs_path || f.module || '?';
        lines.push(`  File "${file}", line ${f.lineno ?? '?'}${f.colno ? `:${f.colno}` : ''}, in ${f.function || '?'}`);
        if (f.context_line) lines.push(`    ${f.context_line.trim()}`);
      }
      lines.push(x.value ? `${x.type ?? 'Error'}: ${x.value}` : (x.type ?? 'Error'));
      return lines.join('\n');
    });
  return blocks.length ? cleanText(blocks.join('\n\nThe above exception was the direct cause of the following exception:\n\n')) : null;
}

function tagsOf(e: Obj, contexts: Obj | undefined): Obj {
  const tags: Obj = {};
  if (Array.isArray(e.tags)) {
    for (const pair of e.tags) if (Array.isArray(pair) && pair.length === 2 && str(pair[0])) tags[str(pair[0])!] = str(pair[1]) ?? pair[1];
  } else if (isObj(e.tags)) {
    Object.assign(tags, e.tags);
  }
  for (const k of ['release', 'dist', 'server_name', 'transaction', 'platform', 'logger']) {
    const v = str(e[k]);
    if (v !== undefined && !(k in tags)) tags[k] = v;
  }
  // browser, os, runtime, device (and their .name): what the issue page's facets count.
  for (const [k, v] of Object.entries(contextTags(contexts))) if (!(k in tags)) tags[k] = v;
  return tags;
}

function userRef(user: Obj | undefined): string | null {
  if (!user) return null;
  return clip(str(user.id) ?? str(user.email) ?? str(user.username) ?? str(user.ip_address) ?? null, 200);
}

function timestampOf(v: unknown, fallback: string): string {
  const parsed = TimestampSchema.safeParse(v);
  return parsed.success ? parsed.data : fallback;
}

export interface SentryEventResult {
  record: EventRecord;
  /** Fields dropped for their type (also kept in `data.errors`). */
  errors: ProcessingError[];
}

export type SentryEventOptions = StructureOptions;

const boundedObj = (v: unknown, max: number): Obj | undefined => {
  if (!isObj(v)) return undefined;
  const text = JSON.stringify(cleanJson(v));
  return text.length <= max ? (JSON.parse(text) as Obj) : { too_large: true, size: text.length };
};

/**
 * One Sentry event, of any SDK generation (legacy shapes are made modern first:
 * legacy.ts), as an error event record. Security reports (a csp/hpkp/expectct/
 * expectstaple interface) get their own title, kind and grouping (security.ts). Which
 * payloads may become error events at all is the caller's question (items.ts).
 */
export function sentryEventToRecord(
  payload: unknown,
  projectId: number,
  receivedAt: string,
  headerEventId?: unknown,
  opts: SentryEventOptions = {},
): SentryEventResult {
  if (!isObj(payload))
    throw badRequest('A Sentry event must be a JSON object', { field: '(body)', expected: 'a JSON object' }, 'invalid_event');
  const { event: e, errors } = modernizeEvent(payload);
  const all = exceptionsOf(e);
  // An exception without a type is the SDK's synthetic stack for captureMessage: a message, not an exception.
  const excs = all.filter((x) => x.type);
  const synthetic = all.find((x) => !x.type);
  const main = excs.at(-1);
  const entry = logentryOf(e);
  const kind =
    classifyEvent(e) === 'security' ? (['csp', 'hpkp', 'expectct', 'expectstaple'] as const).find((k) => isObj(e[k])) : undefined;
  const security = kind ? securityFields(kind as SecurityKind, e[kind] as Obj) : undefined;
  const message = security?.message ?? main?.value ?? entry.text ?? synthetic?.value ?? '';
  const data = eventDataOf(e, excs.length ? excs : synthetic ? [synthetic] : [], opts);
  const culprit = clip(str(e.culprit) ?? security?.culprit ?? null, 200);
  if (culprit) data.culprit = culprit;
  const template = boundedObj(e.template, 16 * 1024);
  if (template) data.template = template;
  if (kind) data.security = { kind, report: boundedObj(e[kind], 32 * 1024)! };
  if (errors.length) data.errors = errors.slice(0, 50);
  const extra: Obj = isObj(e.extra) ? { ...e.extra } : {};
  if (main && entry.text && entry.text !== message) extra.message = entry.text;
  const sent = Array.isArray(e.fingerprint) ? e.fingerprint.map(str).filter((p): p is string => Boolean(p)) : [];
  const fingerprint = sent.length ? sent : (security?.fingerprint ?? []);
  const tags = tagsOf(e, data.contexts);
  if (security) for (const [k, v] of Object.entries(security.tags)) if (!(k in tags)) tags[k] = v;
  return {
    errors,
    record: {
      project_id: projectId,
      event_id: sentryEventId(e.event_id ?? headerEventId),
      kind: 'error',
      event_type: security?.event_type ?? (main ? 'exception' : 'message'),
      timestamp: timestampOf(e.timestamp, receivedAt),
      received_at: receivedAt,
      level: normalizeLevel(str(e.level) ?? '') ?? 'error',
      message: cleanText(message),
      exception_type: clip(security?.exception_type ?? (main ? (main.type ?? 'Error') : null), 255),
      stacktrace: stacktraceText(excs),
      environment: clip(str(e.environment) ?? null, 100),
      service: null,
      user_ref: userRef(data.user),
      tags: cleanJson(tags) as Obj,
      extra: cleanJson(extra) as Obj,
      origin: 'sentry',
      ...traceIdsOf(e.contexts),
      release: clip(str(e.release)?.trim() || null, 250),
      data: data as Obj,
      grouping: fingerprint.length ? { fingerprint: fingerprint.map((p) => cleanText(p).slice(0, 200)).slice(0, 20) } : {},
    },
  };
}

/** Sentry structured logs: one `log` item carries `{"items": [...]}`. */
export function sentryLogsToRecords(payload: unknown, projectId: number, receivedAt: string): EventRecord[] {
  const items = isObj(payload) && Array.isArray(payload.items) ? payload.items.filter(isObj) : [];
  return items.map((item) => {
    const attributes: Obj = {};
    if (isObj(item.attributes)) {
      for (const [k, v] of Object.entries(item.attributes)) attributes[k] = isObj(v) && 'value' in v ? v.value : v;
    }
    const tags: Obj = {};
    for (const [tag, attr] of [
      ['release', 'sentry.release'],
      ['sdk', 'sentry.sdk.name'],
      ['trace_id', 'trace_id'],
    ] as const) {
      const v = str(attr === 'trace_id' ? item.trace_id : attributes[attr]);
      if (v) tags[tag] = v;
    }
    return {
      project_id: projectId,
      // Logs carry no id: derive one from the item, so a resent envelope stores nothing twice.
      event_id: createHash('sha256').update(JSON.stringify(item)).digest('hex').slice(0, 32),
      kind: 'log' as const,
      event_type: 'log',
      timestamp: timestampOf(item.timestamp, receivedAt),
      received_at: receivedAt,
      level: normalizeLevel(str(item.level) ?? '') ?? 'info',
      message: cleanText(str(item.body) ?? ''),
      exception_type: null,
      stacktrace: null,
      environment: clip(str(attributes['sentry.environment']) ?? null, 100),
      service: clip(str(attributes['service.name']) ?? null, 200),
      user_ref: clip(str(attributes['user.id']) ?? str(attributes['user.email']) ?? null, 200),
      tags: cleanJson(tags) as Obj,
      extra: cleanJson({ attributes }) as Obj,
      origin: 'sentry',
      ...traceIdsOf({ trace: { trace_id: item.trace_id, span_id: item.span_id ?? attributes['sentry.trace.parent_span_id'] } }),
    };
  });
}

/** Where user feedback shows up: logs with this source (`GET /api/logs/?source=user-feedback`). */
export const FEEDBACK_SOURCE = 'user-feedback';

const itemId = (item: unknown) => createHash('sha256').update(JSON.stringify(item)).digest('hex').slice(0, 32);

/**
 * User feedback — the feedback widget's `feedback` item (an event whose
 * `contexts.feedback` holds message, contact_email, name, url, associated_event_id) and
 * the legacy `user_report` item (`{event_id, name, email, comments}`, where event_id is
 * the event the user reports on). Stored as an info log from source `user-feedback`,
 * tagged with the event it is about, so it is listed, searched and exported with logs.
 * Null when the item carries no message.
 */
export function sentryFeedbackToRecord(
  type: 'feedback' | 'user_report',
  payload: unknown,
  projectId: number,
  receivedAt: string,
): EventRecord | null {
  if (!isObj(payload)) return null;
  const fb = type === 'feedback' && isObj(payload.contexts) && isObj(payload.contexts.feedback) ? payload.contexts.feedback : payload;
  const message = str(type === 'feedback' ? fb.message : fb.comments);
  if (!message?.trim()) return null;
  const name = str(fb.name) ?? null;
  const email = str(type === 'feedback' ? fb.contact_email : fb.email) ?? null;
  const about = str(type === 'feedback' ? fb.associated_event_id : payload.event_id) ?? null;
  const tags: Obj = { feedback: type };
  if (about) tags.associated_event_id = about;
  if (isObj(payload.tags)) Object.assign(tags, payload.tags);
  const ownId = type === 'feedback' ? str(payload.event_id) : undefined;
  return {
    project_id: projectId,
    // A user_report's event_id names the event it is about, not itself.
    event_id: ownId && /^[0-9a-f-]{32,36}$/i.test(ownId) ? ownId.replace(/-/g, '').toLowerCase() : itemId(payload),
    kind: 'log',
    event_type: 'feedback',
    timestamp: timestampOf(payload.timestamp, receivedAt),
    received_at: receivedAt,
    level: 'info',
    message: cleanText(message),
    exception_type: null,
    stacktrace: null,
    environment: clip(str(payload.environment) ?? null, 100),
    service: FEEDBACK_SOURCE,
    user_ref: clip(email ?? name, 200),
    tags: cleanJson(tags) as Obj,
    extra: cleanJson({
      feedback: { name, email, url: str(fb.url) ?? null, associated_event_id: about, source: str(fb.source) ?? null },
    }) as Obj,
    origin: 'sentry',
  };
}

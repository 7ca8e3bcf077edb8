import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import type { ApiKeyResolver } from '../../../domain/apiKeys.ts';
import { AppError, badRequest, forbidden, payloadTooLarge, unauthorized } from '../../../domain/errors.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import { keyFromAuthHeader, keyFromQuery, parseDsn } from '../../../domain/sentry/auth.ts';
import { itemJson, parseEnvelope, type Envelope, type EnvelopeItem } from '../../../domain/sentry/envelope.ts';
import { assertMinidump, linkDump, minidumpEvent, storeWithDumps, type StagedMinidump } from '../../../domain/sentry/minidump.ts';
import { stageDump } from '../../../domain/dumps/ingest.ts';
import type { ResolvedKey } from '../../../domain/apiKeys.ts';
import { minidumpHandler, type MinidumpRouteDeps } from './minidump.ts';
import { Readable } from 'node:stream';
import { sentryEventToRecord, sentryFeedbackToRecord, sentryLogsToRecords, type SentryEventOptions } from '../../../domain/sentry/normalize.ts';
import { ingestedItems, ingestRejected, observeHttp, registry } from '../../../metrics.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import type { SessionProducer } from '../../../queues/sessionProducer.ts';
import type { EnvelopeAttachments, AttachmentItem } from '../../../domain/attachments/attachments.ts';
import { sessionItemMarks, type SessionMark } from '../../../domain/sessions/normalize.ts';
import { parseJson, readBody } from '../../http/body.ts';
import { sendJson } from '../../http/send.ts';
import { corsHeaders, preflight, sendSentryError } from './respond.ts';
import './schema.ts'; // OpenAPI registration

/** Sentry's own limits: 1 MB per event item, 20 MB compressed / 100 MB decompressed per envelope. */
export const SENTRY_LIMITS = { eventBytes: 1 << 20, envelopeBytes: 100 << 20, envelopeCompressedBytes: 20 << 20, storeBytes: 1 << 20 };

const sentryItems = new Counter({
  name: 'faultline_sentry_items_total',
  help: 'Sentry envelope items received, by type and what happened to them',
  labelNames: ['type', 'outcome'] as const,
  registers: [registry],
});

export interface SentryDeps {
  keys: ApiKeyResolver;
  producer: EventProducer;
  /** Minidumps (the minidump endpoint, envelope attachments) go through the crash dumps pipeline. */
  dumps: MinidumpRouteDeps;
  /** Release health: `session` / `sessions` items (src/domain/sessions). */
  sessions?: Pick<SessionProducer, 'enqueue'>;
  /** Plain attachments (src/domain/attachments), kept with their event. */
  attachments?: Pick<EnvelopeAttachments, 'keep'>;
  /** The sender's address, for `user.ip_address: "{{auto}}"`. */
  clientIp?: (req: IncomingMessage) => string | undefined;
}

export const SENTRY_PATH = /^\/api\/(\d{1,10})\/(envelope|store|minidump)\/?$/;

export async function authorizeKey(deps: Pick<SentryDeps, 'keys'>, req: IncomingMessage, projectId: number, envelope?: Envelope): Promise<ResolvedKey> {
  const dsn = envelope ? parseDsn(envelope.header.dsn) : null;
  const secret = keyFromAuthHeader(req.headers['x-sentry-auth'] as string | undefined) ?? keyFromAuthHeader(req.headers.authorization) ?? keyFromQuery(req.url) ?? dsn?.key;
  if (!secret) throw unauthorized('Missing Sentry key: send X-Sentry-Auth, ?sentry_key= or a DSN in the envelope header', 'authentication_required');
  const key = await deps.keys.resolve(secret);
  if (!key) throw unauthorized('Invalid Sentry key', 'invalid_api_key');
  if (key.projectId !== projectId) throw forbidden('This key belongs to another project', 'wrong_project');
  if (!key.scopes.includes('ingest')) throw forbidden('This key cannot ingest events', 'scope_missing');
  return key;
}

/** Crashpad puts the key in the URL (?sentry_key=) or a header; a multipart body has no DSN to fall back on. */
export async function authorizeKeyFromHeaders(deps: Pick<SentryDeps, 'keys'>, req: IncomingMessage, projectId: number): Promise<ResolvedKey> {
  if (!hasHeaderKey(req)) throw unauthorized('Missing Sentry key: send X-Sentry-Auth or ?sentry_key=', 'authentication_required');
  return authorizeKey(deps, req, projectId);
}

export const hasHeaderKey = (req: IncomingMessage) =>
  Boolean(keyFromAuthHeader(req.headers['x-sentry-auth'] as string | undefined) ?? keyFromAuthHeader(req.headers.authorization) ?? keyFromQuery(req.url));

/**
 * Turns an envelope's items into records, and sets minidump attachments aside; unknown
 * and unsupported items are counted and skipped, never fatal.
 */
function recordsOf(envelope: Envelope, projectId: number, receivedAt: string, opts: SentryEventOptions = {}): { records: EventRecord[]; eventId: string | null; minidumps: EnvelopeItem[]; sessions: SessionMark[]; attachments: AttachmentItem[] } {
  const records: EventRecord[] = [];
  const sessions: SessionMark[] = [];
  const attachments: AttachmentItem[] = [];
  const minidumps: EnvelopeItem[] = [];
  let eventId: string | null = null;
  for (const item of envelope.items) {
    const type = item.header.type;
    if (type === 'attachment' && item.header.attachment_type === 'event.minidump') {
      minidumps.push(item);
      sentryItems.inc({ type: 'minidump', outcome: 'accepted' });
      continue;
    }
    if (type === 'attachment') {
      attachments.push({ filename: item.header.filename, contentType: item.header.content_type, attachmentType: item.header.attachment_type, payload: item.payload });
      sentryItems.inc({ type, outcome: 'accepted' });
      continue;
    }
    let json: unknown;
    if (type === 'event' || type === 'log' || type === 'feedback' || type === 'user_report') {
      if (type === 'event' && item.payload.length > SENTRY_LIMITS.eventBytes) {
        throw payloadTooLarge(`Event item is ${item.payload.length} bytes; the limit is ${SENTRY_LIMITS.eventBytes}`);
      }
      try {
        json = itemJson(item);
      } catch {
        throw badRequest(`Invalid envelope: the ${type} item is not JSON`, null, 'invalid_envelope');
      }
    }
    if (type === 'event') {
      const { record } = sentryEventToRecord(json, projectId, receivedAt, envelope.header.event_id, opts);
      eventId ??= record.event_id;
      records.push(record);
      sentryItems.inc({ type, outcome: 'accepted' });
    } else if (type === 'log') {
      const logs = sentryLogsToRecords(json, projectId, receivedAt);
      records.push(...logs);
      sentryItems.inc({ type, outcome: 'accepted' }, logs.length);
    } else if (type === 'feedback' || type === 'user_report') {
      const record = sentryFeedbackToRecord(type, json, projectId, receivedAt);
      if (record) records.push(record);
      sentryItems.inc({ type, outcome: record ? 'accepted' : 'skipped' });
    } else if (type === 'session' || type === 'sessions') {
      // Release health is best effort per item: a bad one is skipped, never fatal to the envelope.
      const marks = sessionItemMarks(type, item, projectId, receivedAt);
      sessions.push(...marks);
      sentryItems.inc({ type, outcome: marks.length ? 'accepted' : 'skipped' });
    } else {
      // transaction, client_report, check_in, profile, replay, …:
      // counted, not stored (yet).
      sentryItems.inc({ type: KNOWN_SKIPPED.has(type) ? type : 'unknown', outcome: 'skipped' });
    }
  }
  return { records, eventId, minidumps, sessions, attachments };
}

/**
 * Minidump attachments: staged through the dumps pipeline and linked to the envelope's
 * event — or, when the envelope carries none (Crashpad), to an event made from the dump.
 */
async function withMinidumps(deps: SentryDeps, items: EnvelopeItem[], records: EventRecord[], eventId: string | null, header: Envelope['header'], projectId: number, receivedAt: string) {
  const staged: StagedMinidump[] = [];
  try {
    for (const item of items) {
      const dump = await stageDump(deps.dumps.stores, Readable.from([item.payload]), { maxBytes: deps.dumps.maxBytes });
      staged.push({ staged: dump, originalName: String(item.header.filename ?? 'minidump.dmp'), eventId: '' });
      assertMinidump(dump);
    }
  } catch (err) {
    for (const s of staged) await s.staged.discard();
    throw err;
  }
  let linkTo = eventId ? records.findIndex((r) => r.event_id === eventId) : -1;
  for (const s of staged) {
    if (linkTo < 0) {
      records.push(await minidumpEvent(deps.dumps.stores, s.staged, header.event_id ? { event_id: header.event_id } : {}, projectId, receivedAt));
      linkTo = records.length - 1;
      eventId ??= records[linkTo].event_id;
    }
    records[linkTo] = linkDump(records[linkTo], s.staged.id);
    s.eventId = records[linkTo].event_id;
  }
  return { staged, eventId };
}

const KNOWN_SKIPPED = new Set([
  'transaction', 'client_report', 'check_in', 'profile', 'profile_chunk',
  'replay_event', 'replay_recording', 'replay_video', 'statsd', 'metric_buckets', 'span', 'otel_log',
]);

/** POST /api/{project_id}/envelope/, /store/ and /minidump/ — the lean path, like /api/events/. */
export function sentryIngestHandler(deps: SentryDeps) {
  const minidump = minidumpHandler(deps, deps.dumps, (req, projectId) => authorizeKeyFromHeaders(deps, req, projectId));
  return async (req: IncomingMessage, res: ServerResponse, projectId: number, endpoint: 'envelope' | 'store' | 'minidump'): Promise<void> => {
    if (endpoint === 'minidump') return minidump(req, res, projectId);
    if (req.method === 'OPTIONS') return preflight(req, res);
    const started = process.hrtime.bigint();
    let status = 200;
    try {
      if (req.method !== 'POST') throw new AppError(405, 'method_not_allowed', 'Use POST');
      // Authenticate before reading the body when the key is in a header or the query.
      const early = hasHeaderKey(req) ? await authorizeKey(deps, req, projectId) : null;
      deps.producer.assertCapacity();
      const receivedAt = new Date().toISOString();
      let records: EventRecord[];
      let eventId: string | null;
      if (endpoint === 'envelope') {
        const body = await readBody(req, SENTRY_LIMITS.envelopeBytes, { compressedLimit: SENTRY_LIMITS.envelopeCompressedBytes });
        const envelope = parseEnvelope(body);
        const key = early ?? (await authorizeKey(deps, req, projectId, envelope));
        const parsed = recordsOf(envelope, projectId, receivedAt, { clientIp: deps.clientIp?.(req) });
        eventId = parsed.eventId;
        // Attachments are on disk before anything is queued: a 200 means they are kept.
        records = deps.attachments ? await deps.attachments.keep(projectId, parsed.records, eventId, envelope.header.event_id, parsed.attachments) : parsed.records;
        if (parsed.minidumps.length) {
          const dumps = await withMinidumps(deps, parsed.minidumps, records, eventId, envelope.header, projectId, receivedAt);
          eventId = dumps.eventId;
          await storeWithDumps(deps.dumps, records, dumps.staged, projectId, key.id);
        } else if (records.length) {
          await deps.producer.enqueue(records, body.length);
        }
        if (parsed.sessions.length && deps.sessions) await deps.sessions.enqueue(parsed.sessions);
      } else {
        if (!early) throw unauthorized('Missing Sentry key', 'authentication_required');
        const body = await readBody(req, SENTRY_LIMITS.storeBytes);
        const { record } = sentryEventToRecord(parseJson(body), projectId, receivedAt, undefined, { clientIp: deps.clientIp?.(req) });
        records = [record];
        eventId = record.event_id;
        await deps.producer.enqueue(records, body.length);
      }
      for (const r of records) ingestedItems.inc({ kind: r.kind });
      sendJson(res, 200, eventId ? { id: eventId } : {}, corsHeaders(req));
    } catch (err) {
      const e = sendSentryError(req, res, err);
      status = e.status;
      ingestRejected.inc({ kind: 'sentry', status: String(status) });
    } finally {
      observeHttp(req.method ?? 'POST', `/api/{project_id}/${endpoint}/`, status, started);
    }
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import type { ApiKeyResolver } from '../../../domain/apiKeys.ts';
import { AppError, badRequest, forbidden, payloadTooLarge, unauthorized } from '../../../domain/errors.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import { keyFromAuthHeader, keyFromQuery, parseDsn } from '../../../domain/sentry/auth.ts';
import { itemJson, parseEnvelope, type Envelope } from '../../../domain/sentry/envelope.ts';
import { sentryEventToRecord, sentryLogsToRecords } from '../../../domain/sentry/normalize.ts';
import { ingestedItems, ingestRejected, observeHttp, registry } from '../../../metrics.ts';
import type { EventProducer } from '../../../queues/producer.ts';
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
}

export const SENTRY_PATH = /^\/api\/(\d{1,10})\/(envelope|store|minidump)\/?$/;

async function authorizeKey(deps: SentryDeps, req: IncomingMessage, projectId: number, envelope?: Envelope): Promise<void> {
  const dsn = envelope ? parseDsn(envelope.header.dsn) : null;
  const secret = keyFromAuthHeader(req.headers['x-sentry-auth'] as string | undefined) ?? keyFromAuthHeader(req.headers.authorization) ?? keyFromQuery(req.url) ?? dsn?.key;
  if (!secret) throw unauthorized('Missing Sentry key: send X-Sentry-Auth, ?sentry_key= or a DSN in the envelope header', 'authentication_required');
  const key = await deps.keys.resolve(secret);
  if (!key) throw unauthorized('Invalid Sentry key', 'invalid_api_key');
  if (key.projectId !== projectId) throw forbidden('This key belongs to another project', 'wrong_project');
  if (!key.scopes.includes('ingest')) throw forbidden('This key cannot ingest events', 'scope_missing');
}

const hasHeaderKey = (req: IncomingMessage) =>
  Boolean(keyFromAuthHeader(req.headers['x-sentry-auth'] as string | undefined) ?? keyFromAuthHeader(req.headers.authorization) ?? keyFromQuery(req.url));

/** Turns an envelope's items into records; unknown and unsupported items are counted and skipped, never fatal. */
function recordsOf(envelope: Envelope, projectId: number, receivedAt: string): { records: EventRecord[]; eventId: string | null } {
  const records: EventRecord[] = [];
  let eventId: string | null = null;
  for (const item of envelope.items) {
    const type = item.header.type;
    let json: unknown;
    if (type === 'event' || type === 'log') {
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
      const { record } = sentryEventToRecord(json, projectId, receivedAt, envelope.header.event_id);
      eventId ??= record.event_id;
      records.push(record);
      sentryItems.inc({ type, outcome: 'accepted' });
    } else if (type === 'log') {
      const logs = sentryLogsToRecords(json, projectId, receivedAt);
      records.push(...logs);
      sentryItems.inc({ type, outcome: 'accepted' }, logs.length);
    } else {
      // transaction, session(s), client_report, user_report/feedback, check_in, profile, replay, …:
      // counted, not stored (yet).
      sentryItems.inc({ type: KNOWN_SKIPPED.has(type) ? type : 'unknown', outcome: 'skipped' });
    }
  }
  return { records, eventId };
}

const KNOWN_SKIPPED = new Set([
  'transaction', 'session', 'sessions', 'client_report', 'user_report', 'feedback', 'check_in', 'profile', 'profile_chunk',
  'replay_event', 'replay_recording', 'replay_video', 'statsd', 'metric_buckets', 'span', 'otel_log', 'attachment',
]);

/** POST /api/{project_id}/envelope/ and /store/ — the lean path, like /api/events/. */
export function sentryIngestHandler(deps: SentryDeps) {
  return async (req: IncomingMessage, res: ServerResponse, projectId: number, endpoint: 'envelope' | 'store'): Promise<void> => {
    if (req.method === 'OPTIONS') return preflight(req, res);
    const started = process.hrtime.bigint();
    let status = 200;
    try {
      if (req.method !== 'POST') throw new AppError(405, 'method_not_allowed', 'Use POST');
      // Authenticate before reading the body when the key is in a header or the query.
      const early = hasHeaderKey(req);
      if (early) await authorizeKey(deps, req, projectId);
      deps.producer.assertCapacity();
      const receivedAt = new Date().toISOString();
      let records: EventRecord[];
      let eventId: string | null;
      if (endpoint === 'envelope') {
        const body = await readBody(req, SENTRY_LIMITS.envelopeBytes, { compressedLimit: SENTRY_LIMITS.envelopeCompressedBytes });
        const envelope = parseEnvelope(body);
        if (!early) await authorizeKey(deps, req, projectId, envelope);
        ({ records, eventId } = recordsOf(envelope, projectId, receivedAt));
        if (records.length) await deps.producer.enqueue(records, body.length);
      } else {
        if (!early) throw unauthorized('Missing Sentry key', 'authentication_required');
        const body = await readBody(req, SENTRY_LIMITS.storeBytes);
        const { record } = sentryEventToRecord(parseJson(body), projectId, receivedAt);
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

import type { IncomingMessage } from 'node:http';
import { parseDsn, type Access, type ResolvedKey } from '../../../domain/access/index.ts';
import { AppError, badRequest } from '../../../domain/errors.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import {
  ENVELOPE_HEADER_MAX_BYTES,
  parseEnvelope,
  parseEnvelopeHeader,
  type Envelope,
  type EnvelopeItem,
} from '../../../domain/ingest/formats/sentry/envelope.ts';
import {
  assertMinidump,
  linkDump,
  minidumpEvent,
  storeWithDumps,
  type StagedMinidump,
} from '../../../domain/ingest/formats/sentry/minidump.ts';
import { stageDump } from '../../../domain/dumps/ingest.ts';
import { minidumpBody, minidumpHeaders, type MinidumpRouteDeps } from './minidump.ts';
import type { IngestRoute } from '../../ingest/runner.ts';
import { Readable } from 'node:stream';
import { sentryEventItem } from '../../../domain/ingest/formats/sentry/items.ts';
import { securityRoute } from './security.ts';
import { decodeStoreBody } from '../../../domain/ingest/formats/sentry/legacy.ts';
import { sentryEventId as sentryEventIdOf } from '../../../domain/ingest/formats/sentry/normalize.ts';
import { refuseOtlpAsEnvelope } from '../../../domain/ingest/formats/otlp/decode.ts';
import type { TraceBundle, TraceProducer } from '../../../queues/traceProducer.ts';
import { ingestedItems } from '../../../metrics.ts';
import type { EventProducer } from '../../../queues/producer.ts';
import type { SessionProducer } from '../../../queues/sessionProducer.ts';
import type { EnvelopeAttachments } from '../../../domain/attachments/attachments.ts';
import { bodyDecoder, parseJson, readBody, RequestBody } from '../../http/body.ts';
import { sendJson } from '../../http/send.ts';
import { corsHeaders, preflight, sendSentryError } from './respond.ts';
import type { InboundFilterCache } from '../../../domain/outcomes/inboundFilters.ts';
import {
  rateLimited,
  sentryRateLimits,
  type DiskGuard,
  type QuotaCategory,
  type Quotas,
  type Refusal,
} from '../../../domain/quotas/index.ts';
import {
  SENTRY_LIMITS,
  sentryItems,
  type EnvelopeRecords,
  placeEventItem,
  noteFor,
  recordsOf,
  isObject,
  countAccepted,
  dropWithFilteredEvent,
} from './envelopeItems.ts';
import './schema.ts'; // OpenAPI registration

export interface SentryDeps {
  access: Access;
  producer: EventProducer;
  /** Minidumps (the minidump endpoint, envelope attachments) go through the crash dumps pipeline. */
  dumps: MinidumpRouteDeps;
  /** Transactions and spans (and the LLM calls among them) go to the spans store. */
  traces?: TraceProducer;
  /** Release health: `session` / `sessions` items (src/domain/sessions). */
  sessions?: Pick<SessionProducer, 'enqueue'>;
  /** Plain attachments (src/domain/attachments), kept with their event. */
  attachments?: Pick<EnvelopeAttachments, 'keep'>;
  /** The sender's address, for `user.ip_address: "{{auto}}"`. */
  clientIp?: (req: IncomingMessage) => string | undefined;
  /** The project's inbound filters (src/domain/outcomes): filtered events are counted, not stored. */
  filters?: Pick<InboundFilterCache, 'apply'>;
  quotas: Quotas;
  /** Minidumps and attachments are refused (507) before they are written while their volume is nearly full. */
  disk: DiskGuard;
  dirs: { dumps: string; artifacts: string };
}

/**
 * Quotas for an envelope, per category of its items (Sentry's own model): each category
 * is taken all or none, a refused one is dropped and named in X-Sentry-Rate-Limits, the
 * rest is kept. Returns the refusals; the envelope's parts are trimmed in place.
 */
async function envelopeQuotas(quotas: Quotas, scope: { projectId: number; keyId: number }, parsed: EnvelopeRecords): Promise<Refusal[]> {
  const bytes = parsed.minidumps.reduce((n, i) => n + i.payload.length, 0) + parsed.attachments.reduce((n, a) => n + a.payload.length, 0);
  const wanted: Array<[QuotaCategory, number]> = [
    ['error', parsed.records.filter((r) => r.kind === 'error').length],
    ['log', parsed.records.filter((r) => r.kind === 'log').length],
    ['span', parsed.trace.spans.length],
    ['dump_bytes', bytes],
  ];
  const refusals: Refusal[] = [];
  for (const [category, n] of wanted) {
    if (!n) continue;
    const refused = await quotas.take(scope, category, n);
    if (!refused) continue;
    refusals.push(refused);
    if (category === 'error' || category === 'log') parsed.records = parsed.records.filter((r) => r.kind !== category);
    if (category === 'span') parsed.trace = { spans: [], events: [], llmLogs: [] };
    if (category === 'dump_bytes') {
      parsed.minidumps = [];
      parsed.attachments = [];
    }
  }
  return refusals;
}

/**
 * The Sentry key, as SDKs send it: X-Sentry-Auth, `Authorization: Sentry …`,
 * ?sentry_key= (browser SDKs) — or, for envelopes, the DSN in the envelope header. It
 * must belong to the project in the path and have the ingest scope.
 */
const sentryKey = (access: Access, req: IncomingMessage, projectId: number, dsnKey?: string | null) =>
  access.apiKey(req, { scope: 'ingest', projectId, sentry: true, fallback: dsnKey });

/**
 * Without a key in the headers or the query, the credential is the DSN in the envelope
 * header — the body's first line. Only that line is read (and decoded) before the key is
 * checked: a refused envelope costs no more than its first line.
 */
async function keyFromEnvelopeHeader(access: Access, req: IncomingMessage, projectId: number, body: RequestBody): Promise<ResolvedKey> {
  try {
    const line = await body.firstLine(ENVELOPE_HEADER_MAX_BYTES, 'invalid_envelope');
    refuseOtlpAsEnvelope(req.headers['content-type'], line);
    const header = parseEnvelopeHeader(line);
    return await sentryKey(access, req, projectId, parseDsn(header.dsn)?.key);
  } catch (err) {
    body.discard();
    throw err;
  }
}

/**
 * Turns an envelope's items into records, and sets minidump attachments aside; unknown
 * and unsupported items are counted and skipped, never fatal.
 */

/**
 * Minidump attachments: staged through the dumps pipeline and linked to the envelope's
 * event — or, when the envelope carries none (Crashpad), to an event made from the dump.
 */
async function withMinidumps(
  deps: SentryDeps,
  items: EnvelopeItem[],
  records: EventRecord[],
  eventId: string | null,
  header: Envelope['header'],
  projectId: number,
  receivedAt: string,
) {
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
      records.push(
        await minidumpEvent(deps.dumps.stores, s.staged, header.event_id ? { event_id: header.event_id } : {}, projectId, receivedAt),
      );
      linkTo = records.length - 1;
      eventId ??= records[linkTo].event_id;
    }
    records[linkTo] = linkDump(records[linkTo], s.staged.id);
    s.eventId = records[linkTo].event_id;
  }
  return { staged, eventId };
}

const projectOf = (params: Record<string, string>) => Number(params.project);

const SENTRY = { refuse: sendSentryError, preflight } as const;

/** POST /api/{project_id}/store/ — a legacy JSON event; the key must be in the headers or query. */
function storeRoute(deps: SentryDeps): IngestRoute<ResolvedKey> {
  return {
    ...SENTRY,
    name: '/api/{project_id}/store/',
    kind: 'sentry',
    methods: ['POST'],
    path: /^\/api\/(?<project>\d{1,10})\/store$/,
    headers: async (req, params) => {
      const key = await sentryKey(deps.access, req, projectOf(params));
      deps.producer.assertCapacity();
      await deps.quotas.assertAvailable({ projectId: key.projectId, keyId: key.id }, 'error');
      bodyDecoder(req, SENTRY_LIMITS.storeBytes)?.destroy();
      return key;
    },
    body: async (req, res, key, params) => {
      const body = decodeStoreBody(await readBody(req, SENTRY_LIMITS.storeBytes), SENTRY_LIMITS.storeBytes);
      const json = parseJson(body);
      if (!isObject(json))
        throw badRequest('A Sentry event must be a JSON object', { field: '(body)', expected: 'a JSON object' }, 'invalid_event');
      const projectId = projectOf(params);
      const records: EventRecord[] = [];
      const trace: TraceBundle = { spans: [], events: [], llmLogs: [] };
      const result = sentryEventItem(json, projectId, new Date().toISOString(), undefined, { clientIp: deps.clientIp?.(req) });
      const eventId = placeEventItem(result, 'event', records, trace, noteFor(projectId, key.id)) ?? sentryEventIdOf(json.event_id);
      // A filtered event is answered like a stored one (as Sentry does): the SDK has nothing to retry.
      const kept = deps.filters && records.length ? await deps.filters.apply(projectId, records, key.id) : records;
      if (kept.length) {
        await deps.quotas.takeRecords(kept, kept[0].kind === 'log' ? 'log' : 'error', key.id);
        await deps.producer.enqueue(kept, body.length);
      }
      if (trace.spans.length && deps.traces) {
        await deps.quotas.takeRecords(trace.spans, 'span', key.id);
        await deps.traces.enqueue(trace, body.length);
      }
      for (const r of kept) ingestedItems.inc({ kind: r.kind });
      countAccepted(projectId, key.id, kept, new Map(trace.spans.length ? [['transaction', 1]] : []));
      sendJson(res, 200, { id: eventId }, corsHeaders(req));
    },
  };
}

/** POST /api/{project_id}/envelope/ — what modern SDKs send: events, logs, feedback, minidumps, … */
function envelopeRoute(deps: SentryDeps): IngestRoute<ResolvedKey | null> {
  return {
    ...SENTRY,
    name: '/api/{project_id}/envelope/',
    kind: 'sentry',
    methods: ['POST'],
    path: /^\/api\/(?<project>\d{1,10})\/envelope$/,
    longBody: true,
    // Without a key in the headers, it is the DSN in the envelope header: checked on the body's first line.
    headers: async (req, params) => {
      const key = deps.access.presentsKey(req, { sentry: true }) ? await sentryKey(deps.access, req, projectOf(params)) : null;
      deps.producer.assertCapacity();
      bodyDecoder(req, SENTRY_LIMITS.envelopeBytes, { compressedLimit: SENTRY_LIMITS.envelopeCompressedBytes })?.destroy();
      return key;
    },
    body: async (req, res, early, params) => {
      const projectId = projectOf(params);
      const receivedAt = new Date().toISOString();
      const reader = RequestBody.open(req, SENTRY_LIMITS.envelopeBytes, { compressedLimit: SENTRY_LIMITS.envelopeCompressedBytes });
      const key = early ?? (await keyFromEnvelopeHeader(deps.access, req, projectId, reader));
      const body = await reader.all();
      refuseOtlpAsEnvelope(req.headers['content-type'], body);
      const envelope = parseEnvelope(body);
      const parsed = recordsOf(envelope, projectId, receivedAt, { clientIp: deps.clientIp?.(req) }, key.id);
      // Inbound filters first (as Sentry's): a filtered event costs no quota.
      const kept = deps.filters ? await deps.filters.apply(projectId, parsed.records, key.id) : parsed.records;
      if (parsed.eventId && !kept.some((r) => r.event_id === parsed.eventId)) {
        // The envelope's event was filtered: what came with it goes too, counted.
        dropWithFilteredEvent(projectId, key.id, parsed);
      }
      parsed.records = kept;
      const hadItems = parsed.records.length + parsed.trace.spans.length + parsed.minidumps.length + parsed.attachments.length > 0;
      const refusals = await envelopeQuotas(deps.quotas, { projectId, keyId: key.id }, parsed);
      const limits = sentryRateLimits(refusals);
      const left = parsed.records.length + parsed.trace.spans.length + parsed.minidumps.length + parsed.attachments.length;
      // Everything it carried was over quota: 429 (Sentry does the same); otherwise the rest is kept, and the 200 names what was not.
      if (hadItems && !left && refusals.length) {
        const first = rateLimited(refusals[0]);
        throw new AppError(429, first.code, first.message, first.details, { ...first.headers, 'X-Sentry-Rate-Limits': limits });
      }
      if (parsed.minidumps.length) await deps.disk.assertRoom(deps.dirs.dumps);
      if (parsed.attachments.length) await deps.disk.assertRoom(deps.dirs.artifacts);
      let eventId = parsed.eventId;
      // Attachments are on disk before anything is queued: a 200 means they are kept.
      const records = deps.attachments
        ? await deps.attachments.keep(projectId, parsed.records, eventId, envelope.header.event_id, parsed.attachments)
        : parsed.records;
      if (parsed.minidumps.length) {
        const dumps = await withMinidumps(deps, parsed.minidumps, records, eventId, envelope.header, projectId, receivedAt);
        eventId = dumps.eventId;
        await storeWithDumps(deps.dumps, records, dumps.staged, projectId, key.id);
      } else if (records.length) {
        await deps.producer.enqueue(records, body.length);
      }
      if (parsed.checkIns.length) await deps.producer.enqueueCheckIns(parsed.checkIns);
      if (parsed.sessions.length && deps.sessions) await deps.sessions.enqueue(parsed.sessions);
      if (parsed.trace.spans.length && deps.traces) await deps.traces.enqueue(parsed.trace, body.length);
      for (const r of records) ingestedItems.inc({ kind: r.kind });
      countAccepted(projectId, key.id, records, parsed.accepted);
      sendJson(
        res,
        200,
        eventId ? { id: eventId } : {},
        limits ? { ...corsHeaders(req), 'X-Sentry-Rate-Limits': limits } : corsHeaders(req),
      );
    },
  };
}

/** POST /api/{project_id}/minidump/ — Crashpad and Breakpad; the key in the headers or the query (a form has no DSN). */
function minidumpRoute(deps: SentryDeps): IngestRoute<ResolvedKey> {
  return {
    ...SENTRY,
    name: '/api/{project_id}/minidump/',
    kind: 'sentry',
    methods: ['POST'],
    path: /^\/api\/(?<project>\d{1,10})\/minidump$/,
    longBody: true,
    headers: async (req, params) => {
      const key = await sentryKey(deps.access, req, projectOf(params));
      deps.producer.assertCapacity();
      const scope = { projectId: key.projectId, keyId: key.id };
      await deps.quotas.assertAvailable(scope, 'error');
      await deps.quotas.assertAvailable(scope, 'dump_bytes', Number(req.headers['content-length']) || 1);
      await deps.disk.assertRoom(deps.dirs.dumps);
      minidumpHeaders(req, deps.dumps);
      return key;
    },
    body: (req, res, key, params) => minidumpBody(req, res, { ...deps.dumps, quotas: deps.quotas }, key, projectOf(params)),
  };
}

/** Sentry's ingest endpoints, for official SDKs with a DSN `http://<api_key>@<host>/<project_id>`. */
export const sentryRoutes = (deps: SentryDeps): IngestRoute[] =>
  [envelopeRoute(deps), storeRoute(deps), minidumpRoute(deps), securityRoute(deps, sentryItems)] as IngestRoute[];

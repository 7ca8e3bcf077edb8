/**
 * OTLP logs (an ExportLogsServiceRequest, decoded by decode.ts) → EventRecords:
 *
 * | OTLP                                        | Faultline                                 |
 * |---------------------------------------------|-------------------------------------------|
 * | severity_number (1–24), else severity_text  | level (TRACE/DEBUG → debug … FATAL → critical) |
 * | body (a string, or any value as JSON)       | message                                   |
 * | time_unix_nano, else observed_time_unix_nano | timestamp (else the time received)       |
 * | resource `service.name`                     | service (the logs' source)                |
 * | resource `deployment.environment(.name)`    | environment                               |
 * | resource `service.version`, scope name      | tags `release`, `logger`                  |
 * | attributes, resource attributes, scope      | extra `attributes`, `resource`, `scope`   |
 * | trace_id, span_id                           | trace_id, span_id                         |
 * | attribute `user.id` / `enduser.id`          | user_ref                                  |
 * | attributes `exception.type/message/stacktrace` | an error event (kind error), grouped into an issue |
 *
 * A record that breaks a limit (attributes, id lengths, a timestamp in the future, its
 * size) is rejected alone and counted in the answer's partial_success.
 */
import { createHash } from 'node:crypto';
import { payloadTooLarge } from '../../../errors.ts';
import { cleanText, clip, type EventRecord } from '../../../events/record.ts';
import { normalizeLevel, type Level } from '../../../levels.ts';
import type { Message } from './decode.ts';
import type { GenaiLimits } from './genai.ts';
import {
  anyValue,
  asString,
  attributesOf,
  bigintOf,
  hexId,
  isoOfNanos,
  Rejected,
  resourceOf,
  scopeOf,
  timeOf,
  type Limits,
} from './values.ts';

export interface OtlpLimits extends Limits, GenaiLimits {
  /** Records (or spans) per request. */
  maxItems: number;
  /** Bytes of one record's message. */
  maxEventBytes: number;
}

export interface Mapped<T> {
  items: T[];
  rejected: number;
  /** The first few reasons, for partial_success.error_message. */
  errors: string[];
}

type Msg = Record<string, unknown>;
const list = (v: unknown): Msg[] => (Array.isArray(v) ? (v as Msg[]) : []);

/** OpenTelemetry's severity numbers: 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL. */
export function levelOfSeverity(num: unknown, text: unknown): Level | null {
  const n = Number(num);
  if (n >= 1 && n <= 8) return 'debug';
  if (n >= 9 && n <= 12) return 'info';
  if (n >= 13 && n <= 16) return 'warning';
  if (n >= 17 && n <= 20) return 'error';
  if (n >= 21 && n <= 24) return 'critical';
  return typeof text === 'string' && text ? (normalizeLevel(text.replace(/\d+$/, '')) ?? null) : null;
}

/** How many log records a request holds, before any work: more than the limit is a 413. */
export function countLogRecords(req: Message, maxItems: number): number {
  let n = 0;
  for (const rl of list(req.resourceLogs)) for (const sl of list(rl.scopeLogs)) n += list(sl.logRecords).length;
  if (n > maxItems)
    throw payloadTooLarge(`A request holds at most ${maxItems} log records; this one has ${n}`, { max_items: maxItems, items: n });
  return n;
}

export const MAX_ERRORS_REPORTED = 5;

/** Collects rejections: the count, and the first few reasons (with where they were). */
export class Rejections {
  count = 0;
  readonly errors: string[] = [];
  add(where: string, err: unknown): void {
    if (!(err instanceof Rejected)) throw err;
    this.count++;
    if (this.errors.length < MAX_ERRORS_REPORTED) this.errors.push(`${where}: ${err.message}`);
  }
}

const bodyText = (body: unknown): string =>
  typeof body === 'string' ? body : body === null || body === undefined ? '' : JSON.stringify(body);

export function logsToRecords(req: Message, projectId: number, receivedAt: string, limits: OtlpLimits): Mapped<EventRecord> {
  countLogRecords(req, limits.maxItems);
  const receivedMs = Date.parse(receivedAt);
  const items: EventRecord[] = [];
  const rejections = new Rejections();
  list(req.resourceLogs).forEach((rl, r) => {
    let resource;
    try {
      resource = resourceOf(rl.resource, limits);
    } catch (err) {
      // A resource over the limits takes its records with it.
      for (const sl of list(rl.scopeLogs)) for (let i = 0; i < list(sl.logRecords).length; i++) rejections.add(`resource_logs[${r}]`, err);
      return;
    }
    // Hashed once per resource: part of every record's id.
    const resourceKey = JSON.stringify(resource.attributes);
    list(rl.scopeLogs).forEach((sl, s) => {
      const scope = scopeOf(sl.scope);
      list(sl.logRecords).forEach((lr, i) => {
        try {
          items.push(logRecord(lr, { projectId, receivedAt, receivedMs, resource, resourceKey, scope, limits }));
        } catch (err) {
          rejections.add(`resource_logs[${r}].scope_logs[${s}].log_records[${i}]`, err);
        }
      });
    });
  });
  return { items, rejected: rejections.count, errors: rejections.errors };
}

interface Context {
  projectId: number;
  receivedAt: string;
  receivedMs: number;
  resource: ReturnType<typeof resourceOf>;
  resourceKey: string;
  scope: ReturnType<typeof scopeOf>;
  limits: OtlpLimits;
}

function logRecord(lr: Msg, c: Context): EventRecord {
  const attributes = attributesOf(lr.attributes, c.limits);
  const time =
    timeOf(lr.timeUnixNano, c.receivedMs, 'time_unix_nano') ?? timeOf(lr.observedTimeUnixNano, c.receivedMs, 'observed_time_unix_nano');
  const traceId = hexId(lr.traceId, 16, 'trace_id');
  const spanId = hexId(lr.spanId, 8, 'span_id');
  const body = anyValue(lr.body);
  const text = bodyText(body);
  if (Buffer.byteLength(text) > c.limits.maxEventBytes) throw new Rejected(`the body is larger than ${c.limits.maxEventBytes} bytes`);

  // Semantic conventions for exceptions in logs: exception.type / .message / .stacktrace.
  const excType = asString(attributes['exception.type']);
  const excMessage = asString(attributes['exception.message']);
  const excStack = asString(attributes['exception.stacktrace']);
  const isException = Boolean(excType || excMessage);
  const severityText = typeof lr.severityText === 'string' && lr.severityText ? clip(lr.severityText, 64) : null;
  const eventName = typeof lr.eventName === 'string' && lr.eventName ? clip(lr.eventName, 64) : null;

  const tags: Record<string, unknown> = {};
  if (c.resource.version) tags.release = c.resource.version;
  if (c.scope.name) tags.logger = c.scope.name;
  const extra: Record<string, unknown> = { attributes, resource: c.resource.attributes };
  if (c.scope.name || c.scope.version) extra.scope = c.scope;
  if (severityText) extra.severity_text = severityText;
  if (eventName) extra.event_name = eventName;

  const id = createHash('sha256')
    .update(c.resourceKey)
    .update(
      JSON.stringify([
        c.scope,
        String(bigintOf(lr.timeUnixNano)),
        lr.severityNumber ?? 0,
        severityText,
        body,
        attributes,
        traceId,
        spanId,
        eventName,
      ]),
    )
    .digest('hex')
    .slice(0, 32);

  return {
    project_id: c.projectId,
    // Derived from the record, so an exporter's retry stores nothing twice.
    event_id: id,
    kind: isException ? 'error' : 'log',
    event_type: isException ? 'exception' : (eventName ?? 'log'),
    timestamp: time === null ? c.receivedAt : isoOfNanos(time),
    received_at: c.receivedAt,
    level: levelOfSeverity(lr.severityNumber, lr.severityText) ?? (isException ? 'error' : 'info'),
    message: isException ? cleanText(excMessage ?? text) : text,
    exception_type: isException ? clip(excType ?? 'Error', 255) : null,
    stacktrace: isException && excStack ? cleanText(excStack) : null,
    environment: c.resource.environment,
    service: c.resource.service,
    user_ref: clip(asString(attributes['user.id']) ?? asString(attributes['enduser.id']), 200),
    tags,
    extra,
    origin: 'otlp',
    trace_id: traceId,
    span_id: spanId,
  };
}

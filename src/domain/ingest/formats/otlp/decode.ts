/**
 * OTLP/HTTP bodies in and answers out (https://opentelemetry.io/docs/specs/otlp/#otlphttp),
 * with protobufjs and the upstream .proto files in proto/ (see proto/README.md) — no
 * hand-written protobuf parsing. Both encodings end up as the same protobufjs messages:
 *
 * - `application/x-protobuf`: `Type.decode`.
 * - `application/json`: the proto3 JSON mapping with OTLP's exceptions (trace and span
 *   ids are hex, not base64; enums are integers; 64-bit integers may be strings), walked
 *   against the message types so every field has the type the schema says — a string
 *   where a list belongs is a 400, never a silent coercion — then `Type.fromObject`.
 *
 * Errors answer a `google.rpc.Status` in the request's own encoding, as the spec asks.
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../../../../config.ts';
import { AppError } from '../../../errors.ts';

export type OtlpEncoding = 'protobuf' | 'json';
export type Signal = 'logs' | 'traces';

const PROTO_DIR = path.join(PACKAGE_ROOT, 'proto');
const FILES = [
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports resolve inside proto/; google/protobuf/* (any, duration) ship with protobufjs.
  root.resolvePath = (_origin, target) => (target in protobuf.common ? target : path.join(PROTO_DIR, target));
  root.loadSync(FILES, { keepCase: false });
  root.resolveAll();
  return root;
}

const root = loadRoot();
const REQUEST = {
  logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
  traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
};
const RESPONSE = {
  logs: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
  traces: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
};
const STATUS = root.lookupType('google.rpc.Status');
const ERROR_INFO = root.lookupType('google.rpc.ErrorInfo');
const ERROR_INFO_URL = 'type.googleapis.com/google.rpc.ErrorInfo';

export const CONTENT_TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

/** The encoding a Content-Type names; 415 for anything else (the spec's two, and protobuf's alias). */
export function encodingOf(contentType: string | undefined): OtlpEncoding {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  throw new AppError(
    415,
    'unsupported_media_type',
    `Unsupported Content-Type "${contentType ?? ''}": send application/x-protobuf or application/json`,
    {
      supported: Object.values(CONTENT_TYPES),
    },
  );
}

/** The encoding errors are answered in: the request's, or JSON when it named none we speak. */
export function answerEncodingOf(contentType: string | undefined): OtlpEncoding {
  try {
    return encodingOf(contentType);
  } catch {
    return 'json';
  }
}

const undecodable = (detail: string) => new AppError(400, 'undecodable', `The body is not a valid OTLP export request: ${detail}`);

// --- decoding ------------------------------------------------------------------------

/** A decoded export request: protobufjs messages (fields camelCase, 64-bit integers as Long, bytes as Uint8Array). */
export type Message = protobuf.Message & Record<string, unknown>;

export function decodeRequest(signal: Signal, body: Buffer, encoding: OtlpEncoding): Message {
  const type = REQUEST[signal];
  if (encoding === 'protobuf') {
    try {
      return type.decode(body) as Message;
    } catch (err) {
      throw undecodable((err as Error).message);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw undecodable(`malformed JSON (${(err as Error).message})`);
  }
  return type.fromObject(fromJson(type, json, '', 0)) as Message;
}

// OTLP/JSON encodes these bytes fields as hex, all others as base64 (proto3's rule).
const HEX_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32_TYPES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
};
// Deeper than any real payload (an AnyValue inside kvlists inside arrays…); protobufjs stops binary input at 100.
const MAX_JSON_DEPTH = 64;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const where = (p: string) => p || '(root)';

/** One JSON object → the plain object `type.fromObject` takes, every field checked against the schema. */
function fromJson(type: protobuf.Type, value: unknown, at: string, depth: number): Record<string, unknown> {
  if (depth > MAX_JSON_DEPTH) throw undecodable(`${where(at)}: nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (!isPlainObject(value)) throw undecodable(`${where(at)}: object expected`);
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    // lowerCamelCase is what the spec sends; proto3 JSON parsers also accept the proto name.
    const raw = value[field.name] ?? (field.protoName ? value[field.protoName] : undefined);
    if (raw === undefined || raw === null) continue;
    const p = at ? `${at}.${field.name}` : field.name;
    if (field.repeated) {
      if (!Array.isArray(raw)) throw undecodable(`${p}: array expected`);
      out[field.name] = raw.map((item, i) => fieldValue(field, item, `${p}[${i}]`, depth + 1));
    } else {
      out[field.name] = fieldValue(field, raw, p, depth + 1);
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, v: unknown, at: string, depth: number): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return fromJson(resolved, v, at, depth);
  if (resolved instanceof protobuf.Enum) {
    if (typeof v === 'string' && v in resolved.values) return resolved.values[v];
    if (Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31) return v;
    throw undecodable(`${at}: enum value expected`);
  }
  const t = field.type;
  if (t === 'string') {
    if (typeof v !== 'string') throw undecodable(`${at}: string expected`);
    return v;
  }
  if (t === 'bool') {
    if (typeof v !== 'boolean') throw undecodable(`${at}: boolean expected`);
    return v;
  }
  if (t === 'bytes') {
    if (typeof v !== 'string') throw undecodable(`${at}: ${HEX_FIELDS.has(field.name) ? 'hex' : 'base64'} string expected`);
    if (HEX_FIELDS.has(field.name)) {
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(v)) throw undecodable(`${at}: hex string expected`);
      return Buffer.from(v, 'hex');
    }
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw undecodable(`${at}: base64 string expected`);
    return Buffer.from(v, 'base64');
  }
  if (LONG_TYPES.has(t)) {
    const unsigned = t === 'uint64' || t === 'fixed64';
    if (typeof v === 'number' && Number.isSafeInteger(v) && (!unsigned || v >= 0)) return v;
    if (typeof v === 'string' && (unsigned ? /^\d{1,20}$/ : /^-?\d{1,19}$/).test(v)) {
      const n = BigInt(v);
      if (unsigned ? n < 2n ** 64n : n >= -(2n ** 63n) && n < 2n ** 63n) return v;
    }
    throw undecodable(`${at}: ${unsigned ? 'unsigned ' : ''}64-bit integer expected (a number or a decimal string)`);
  }
  if (t in INT32_TYPES) {
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
    const [min, max] = INT32_TYPES[t];
    if (!Number.isInteger(n) || (n as number) < min || (n as number) > max) throw undecodable(`${at}: ${t} expected`);
    return n;
  }
  if (t === 'double' || t === 'float') {
    if (typeof v === 'number') return v;
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    throw undecodable(`${at}: number expected`);
  }
  throw undecodable(`${at}: unsupported field type ${t}`);
}

// --- answers -------------------------------------------------------------------------

export interface PartialSuccess {
  rejected: number;
  errorMessage: string;
}

/**
 * The export response: empty when everything was accepted, `partial_success` with the
 * count and reason otherwise (the field is `rejected_log_records` or `rejected_spans`).
 */
export function encodeResponse(signal: Signal, encoding: OtlpEncoding, partial: PartialSuccess | null): Buffer {
  const count = signal === 'logs' ? 'rejectedLogRecords' : 'rejectedSpans';
  const body =
    partial && (partial.rejected > 0 || partial.errorMessage)
      ? { partialSuccess: { [count]: partial.rejected, errorMessage: partial.errorMessage } }
      : {};
  if (encoding === 'json') {
    // 64-bit counts as JSON numbers: they are small, and exporters read either.
    return Buffer.from(JSON.stringify(body));
  }
  return Buffer.from(RESPONSE[signal].encode(RESPONSE[signal].fromObject(body)).finish());
}

// https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto
const RPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 408: 4, 413: 11, 415: 3, 429: 8, 500: 13, 503: 14 };

/**
 * An error as the spec wants it: a `google.rpc.Status` whose message says what was wrong,
 * with our stable error code as a `google.rpc.ErrorInfo` detail (reason, domain "faultline").
 */
export function encodeStatus(err: AppError, encoding: OtlpEncoding): Buffer {
  const code = RPC_CODE[err.status] ?? (err.status >= 500 ? 13 : 3);
  const info = { reason: err.code, domain: 'faultline', metadata: {} as Record<string, string> };
  if (err.details !== null && err.details !== undefined)
    info.metadata.details = typeof err.details === 'string' ? err.details : JSON.stringify(err.details);
  if (encoding === 'json') {
    return Buffer.from(JSON.stringify({ code, message: err.message, details: [{ '@type': ERROR_INFO_URL, ...info }] }));
  }
  const detail = { type_url: ERROR_INFO_URL, value: ERROR_INFO.encode(ERROR_INFO.fromObject(info)).finish() };
  return Buffer.from(STATUS.encode(STATUS.fromObject({ code, message: err.message, details: [detail] })).finish());
}

/** For tests and tools: a Status body back into an object. */
export function decodeStatus(body: Buffer, encoding: OtlpEncoding): { code: number; message: string; reason?: string } {
  if (encoding === 'json') {
    const s = JSON.parse(body.toString('utf8')) as { code: number; message: string; details?: Array<{ reason?: string }> };
    return { code: s.code, message: s.message, reason: s.details?.[0]?.reason };
  }
  const s = STATUS.toObject(STATUS.decode(body)) as { code: number; message: string; details?: Array<{ value: Uint8Array }> };
  const info = s.details?.[0] ? (ERROR_INFO.toObject(ERROR_INFO.decode(s.details[0].value)) as { reason?: string }) : {};
  return { code: s.code, message: s.message, reason: info.reason };
}

/** For tests and tools: an export response back into `{rejected, errorMessage}` (null when it has no partial_success). */
export function decodeResponse(signal: Signal, body: Buffer, encoding: OtlpEncoding): PartialSuccess | null {
  const obj = (
    encoding === 'json' ? JSON.parse(body.toString('utf8')) : RESPONSE[signal].toObject(RESPONSE[signal].decode(body), { longs: Number })
  ) as {
    partialSuccess?: Record<string, unknown>;
  };
  const p = obj.partialSuccess;
  if (!p) return null;
  return {
    rejected: Number(p[signal === 'logs' ? 'rejectedLogRecords' : 'rejectedSpans'] ?? 0),
    errorMessage: String(p.errorMessage ?? ''),
  };
}

/** For tests: a request object (camelCase, as fromObject takes it) encoded as protobuf. */
export function encodeRequest(signal: Signal, request: Record<string, unknown>): Buffer {
  return Buffer.from(REQUEST[signal].encode(REQUEST[signal].fromObject(request)).finish());
}

/**
 * An OTLP export posted to Sentry's envelope endpoint (a wrong exporter URL) parses as an
 * envelope without items, which would answer 200 and drop it: refuse it, naming the
 * right endpoints. Cheap: the Content-Type, and the body's first bytes.
 */
export function refuseOtlpAsEnvelope(contentType: string | undefined, body: Buffer): void {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const head = body.subarray(0, 64).toString('utf8').replace(/^\s+/, '');
  if (
    type === 'application/x-protobuf' ||
    type === 'application/protobuf' ||
    /^\{\s*"(resource(Logs|Spans|Metrics)|resource_(logs|spans|metrics))"/.test(head)
  ) {
    throw new AppError(
      400,
      'otlp_not_envelope',
      'This looks like an OTLP export, not a Sentry envelope: send OTLP to /v1/logs or /v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT=<host>)',
      {
        logs: '/v1/logs',
        traces: '/v1/traces',
      },
    );
  }
}

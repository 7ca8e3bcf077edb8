/**
 * The parts every OTLP signal shares, from decoded messages (decode.ts) to plain values:
 * attribute values, ids, timestamps, resources. A record that breaks a limit throws
 * `Rejected`, which the signal's mapper counts into the answer's partial_success.
 */
import { cleanText, clip } from '../../../events/record.ts';

type Msg = Record<string, unknown>;

/** One record (log record, span) refused, with the reason the client is told. */
export class Rejected extends Error {}

export interface Limits {
  /** Attributes per record, span, span event or resource. */
  maxAttributes: number;
}

/** Later than this after arrival is not a clock skew but a broken clock (or a nanosecond/millisecond mix-up). */
export const MAX_FUTURE_MS = 24 * 3600_000;

const MAX_DEPTH = 32;

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
  toString(): string;
}
const isLong = (v: unknown): v is LongLike => typeof v === 'object' && v !== null && 'low' in v && 'high' in v;

/** A 64-bit integer field (Long, number or decimal string) as a bigint. */
export function bigintOf(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === 'string') return /^-?\d+$/.test(v) ? BigInt(v) : 0n;
  // From the bits: Long's own toString divides in software, the hottest line of a logs request.
  if (isLong(v)) return BigInt.asIntN(v.unsigned ? 65 : 64, (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0));
  return 0n;
}

/** An int64 attribute as a JSON number when it is exact, else as its decimal string. */
function intValue(v: unknown): number | string {
  const n = bigintOf(v);
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

const has = (m: Msg, k: string) => Object.prototype.hasOwnProperty.call(m, k);

/** An AnyValue as plain JSON: strings, booleans, numbers, arrays, objects; bytes as base64. */
export function anyValue(v: unknown, depth = 0): unknown {
  if (!v || typeof v !== 'object') return null;
  if (depth > MAX_DEPTH) throw new Rejected(`an attribute value is nested deeper than ${MAX_DEPTH} levels`);
  const m = v as Msg;
  if (has(m, 'stringValue')) return cleanText(String(m.stringValue));
  if (has(m, 'boolValue')) return Boolean(m.boolValue);
  if (has(m, 'intValue')) return intValue(m.intValue);
  if (has(m, 'doubleValue')) {
    const d = Number(m.doubleValue);
    return Number.isFinite(d) ? d : String(d); // JSON has no NaN or Infinity
  }
  if (has(m, 'arrayValue')) {
    const values = ((m.arrayValue as Msg | null)?.values ?? []) as unknown[];
    return values.map((x) => anyValue(x, depth + 1));
  }
  if (has(m, 'kvlistValue')) return kvList(((m.kvlistValue as Msg | null)?.values ?? []) as unknown[], depth + 1);
  if (has(m, 'bytesValue')) return Buffer.from(m.bytesValue as Uint8Array).toString('base64');
  return null;
}

function kvList(kvs: unknown[], depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs as Msg[]) {
    const key = typeof kv?.key === 'string' ? cleanText(kv.key) : '';
    if (key) out[key] = anyValue(kv.value, depth);
  }
  return out;
}

/** Repeated KeyValue → an object; more than `max` is the record's rejection (a client bug, not data to keep in part). */
export function attributesOf(kvs: unknown, limits: Limits, what = 'record'): Record<string, unknown> {
  const list = Array.isArray(kvs) ? kvs : [];
  if (list.length > limits.maxAttributes)
    throw new Rejected(`a ${what} has ${list.length} attributes; the limit is ${limits.maxAttributes}`);
  return kvList(list, 0);
}

/**
 * A trace (16 bytes) or span (8 bytes) id as lowercase hex. Empty or all-zero is "none"
 * (null); any other length is the record's rejection.
 */
export function hexId(bytes: unknown, length: 8 | 16, what: string): string | null {
  const b = bytes instanceof Uint8Array ? bytes : null;
  if (!b || b.length === 0) return null;
  if (b.length !== length) throw new Rejected(`${what} is ${b.length} bytes; it must be ${length}`);
  const hex = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return /^0+$/.test(hex) ? null : hex;
}

const NS_PER_MS = 1_000_000n;

/** Nanoseconds since the epoch as epoch milliseconds (a float: sub-millisecond kept). */
export const msOfNanos = (ns: bigint): number => Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;

/**
 * A timestamp field: null when unset (0); the record's rejection when it lies more than
 * MAX_FUTURE_MS after arrival (uint64 nanoseconds reach the year 2554: "absurd" is
 * anything a real clock cannot have said).
 */
export function timeOf(v: unknown, receivedMs: number, what: string): bigint | null {
  const ns = bigintOf(v);
  if (ns <= 0n) return null;
  if (msOfNanos(ns) > receivedMs + MAX_FUTURE_MS) throw new Rejected(`${what} lies in the future (${ns} ns since the epoch)`);
  return ns;
}

/** ISO 8601 with microseconds (what PostgreSQL keeps), from nanoseconds since the epoch. */
export function isoOfNanos(ns: bigint): string {
  const ms = Number(ns / NS_PER_MS);
  const micros = Number((ns % NS_PER_MS) / 1000n);
  const iso = new Date(ms).toISOString(); // …:SS.mmmZ
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : typeof v === 'number' ? String(v) : null);

export interface ResourceFacts {
  attributes: Record<string, unknown>;
  service: string | null;
  environment: string | null;
  version: string | null;
}

/** A Resource message: its attributes, and the three our columns and tags hold. */
export function resourceOf(resource: unknown, limits: Limits): ResourceFacts {
  const attributes = attributesOf((resource as Msg | null)?.attributes, limits, 'resource');
  return {
    attributes,
    service: clip(str(attributes['service.name']), 200),
    // The stable name since semantic conventions 1.27; the older one is still what most SDKs send.
    environment: clip(str(attributes['deployment.environment.name']) ?? str(attributes['deployment.environment']), 100),
    version: clip(str(attributes['service.version']), 200),
  };
}

/** An instrumentation scope as `{name, version}` (attributes dropped: they describe the library, not the data). */
export function scopeOf(scope: unknown): { name: string | null; version: string | null } {
  const s = (scope ?? {}) as Msg;
  return { name: clip(str(s.name), 200), version: clip(str(s.version), 100) };
}

export const asString = str;

/**
 * Every shape of Sentry event that older SDKs send (the raven-* generation: raven-js,
 * raven-node, raven-python, raven-java, raven-php, raven-ruby, …) onto the one modern
 * form the rest of the pipeline reads (normalize.ts, ../events/structured.ts). One step,
 * run first on every event, whatever route it came by.
 *
 * What it does, after Sentry's own ingestion (Relay's `legacy_alias` fields and its
 * `Values<T>`, `LogEntry`, `Request`, `Tags` and `Level` parsers):
 * - `sentry.interfaces.*` keys become their modern names (README "Use your Sentry SDK");
 *   when both are sent, the modern one wins;
 * - `exception` as a bare list or a single exception becomes `{values: [...]}`, and a
 *   top-level `stacktrace` moves into the only exception that has none; on an event
 *   without exception it becomes the message's stack (a typeless, synthetic exception,
 *   how the pipeline keeps the stack of `captureMessage` with attachStacktrace);
 * - `message`/`logentry` as a string or `{message, params, formatted}`; a string
 *   `message` beside a `sentry.interfaces.Message` is its formatted text;
 * - `breadcrumbs` as a list or `{values}`; `tags` as pairs or an object;
 * - `request` (`sentry.interfaces.Http`): `query_string` as a string, pairs or an object,
 *   the query and fragment of `url` split off, `headers` and `cookies` as pairs, an
 *   object or (cookies) the header string;
 * - timestamps: ISO 8601 without a zone (UTC, as the SDKs mean it), with a space, or
 *   float seconds; levels as names or Python's numbers (10…50);
 * - `site` becomes a tag, `culprit` and `template` are kept.
 * A field of the wrong type is dropped and listed in `errors` (Sentry's event
 * processing errors: `{type: "invalid_data", name, value}`), never fatal to the event.
 */
import { inflateSync } from 'node:zlib';
import { payloadTooLarge } from '../../../errors.ts';
import { clip } from '../../../events/record.ts';
import { isObj } from '../../../events/structured.ts';

type Obj = Record<string, unknown>;

export interface ProcessingError {
  type: 'invalid_data' | 'invalid_attribute';
  /** The field, as a path: `breadcrumbs`, `exception.values.1`. */
  name: string;
  /** The value that was dropped, clipped. */
  value?: string;
}

/** Sentry's legacy interface names and the field each one is now (Relay's `legacy_alias`). */
export const LEGACY_ALIASES: ReadonlyArray<readonly [string, string]> = [
  ['sentry.interfaces.Exception', 'exception'],
  ['sentry.interfaces.Message', 'logentry'],
  ['sentry.interfaces.Stacktrace', 'stacktrace'],
  ['sentry.interfaces.Http', 'request'],
  ['sentry.interfaces.User', 'user'],
  ['sentry.interfaces.Breadcrumbs', 'breadcrumbs'],
  ['sentry.interfaces.Template', 'template'],
  ['sentry.interfaces.Contexts', 'contexts'],
  ['sentry.interfaces.DebugMeta', 'debug_meta'],
  ['sentry.interfaces.Csp', 'csp'],
  ['sentry.interfaces.Hpkp', 'hpkp'],
  ['sentry.interfaces.ExpectCT', 'expectct'],
  ['sentry.interfaces.ExpectStaple', 'expectstaple'],
];

/** Python's logging levels, which raven-python (and others copying it) sent as numbers. */
const NUMERIC_LEVELS: Record<number, string> = { 0: 'debug', 10: 'debug', 20: 'info', 30: 'warning', 40: 'error', 50: 'fatal' };

const shown = (v: unknown): string => clip(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)), 200) ?? '';

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;

/** `[[k, v], …]` or `{k: v}` → `{k: "v"}` (repeated keys joined as HTTP does); undefined when neither. */
function pairsToObject(v: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const put = (k: unknown, val: unknown) => {
    const key = str(k);
    if (key === undefined || key === '') return;
    const s = val === null || val === undefined ? '' : (str(val) ?? JSON.stringify(val));
    out[key] = key in out ? `${out[key]}, ${s}` : s;
  };
  if (Array.isArray(v)) {
    for (const pair of v) if (Array.isArray(pair) && pair.length === 2) put(pair[0], pair[1]);
    return out;
  }
  if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) put(k, Array.isArray(val) ? val.map((x) => str(x) ?? '').join(', ') : val);
    return out;
  }
  return undefined;
}

/** A query string in any of its shapes → `a=1&b=2` (no leading `?`); undefined when none. */
function queryString(v: unknown): string | undefined {
  if (typeof v === 'string') return v.replace(/^\?/, '');
  if (Array.isArray(v) || isObj(v)) {
    const params = new URLSearchParams();
    if (Array.isArray(v)) {
      for (const pair of v) if (Array.isArray(pair) && pair.length === 2 && str(pair[0])) params.append(str(pair[0])!, str(pair[1]) ?? '');
    } else {
      for (const [k, val] of Object.entries(v)) for (const one of Array.isArray(val) ? val : [val]) params.append(k, str(one) ?? '');
    }
    return params.toString();
  }
  return undefined;
}

function cookiesOf(v: unknown): Record<string, string> | undefined {
  if (typeof v !== 'string') return pairsToObject(v);
  const out: Record<string, string> = {};
  for (const part of v.split(';')) {
    const eq = part.indexOf('=');
    const k = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (k) out[k] = eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return out;
}

function requestOf(v: Obj, problems: ProcessingError[]): Obj {
  const out: Obj = { ...v };
  const url = str(v.url);
  if (url !== undefined) {
    // Relay splits the query and fragment off the URL; an explicit query_string wins.
    const hash = url.indexOf('#');
    const noFragment = hash < 0 ? url : url.slice(0, hash);
    if (hash >= 0 && out.fragment === undefined) out.fragment = url.slice(hash + 1);
    const q = noFragment.indexOf('?');
    out.url = q < 0 ? noFragment : noFragment.slice(0, q);
    if (q >= 0 && (out.query_string === undefined || out.query_string === null || out.query_string === ''))
      out.query_string = noFragment.slice(q + 1);
  } else if (v.url !== undefined) {
    problems.push({ type: 'invalid_data', name: 'request.url', value: shown(v.url) });
    delete out.url;
  }
  for (const [k, fn] of [
    ['query_string', queryString],
    ['headers', pairsToObject],
    ['cookies', cookiesOf],
    ['env', pairsToObject],
  ] as const) {
    if (out[k] === undefined || out[k] === null) {
      delete out[k];
      continue;
    }
    const normalized = fn(out[k]);
    if (normalized === undefined) problems.push({ type: 'invalid_data', name: `request.${k}`, value: shown(out[k]) });
    if (normalized === undefined || normalized === '') delete out[k];
    else out[k] = normalized;
  }
  if (typeof out.method === 'string') out.method = out.method.toUpperCase();
  return out;
}

/** `exception` in any accepted shape → its list of exception objects; null when not an exception at all. */
function exceptionValues(v: unknown): unknown[] | null {
  if (Array.isArray(v)) return v;
  if (isObj(v)) {
    if (Array.isArray(v.values)) return v.values;
    if (v.values === undefined && ('type' in v || 'value' in v || 'stacktrace' in v || 'module' in v)) return [v];
  }
  return null;
}

const hasFrames = (st: unknown): st is Obj => isObj(st) && Array.isArray(st.frames) && st.frames.length > 0;

/** ISO 8601 with no zone ("2012-11-07T14:10:55", "2012-11-07 14:10:55.123"): UTC, as raven-python and raven-java mean it. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

function timestampOf(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  return ZONELESS.test(s) ? `${s.replace(' ', 'T')}Z` : s;
}

export interface ModernEvent {
  event: Obj;
  errors: ProcessingError[];
}

/** One Sentry event of any generation → the modern shape (see the header). The input is not changed. */
export function modernizeEvent(input: Obj): ModernEvent {
  const e: Obj = { ...input };
  const errors: ProcessingError[] = [];
  const invalid = (name: string) => {
    errors.push({ type: 'invalid_data', name, value: shown(e[name]) });
    delete e[name];
  };

  for (const [legacy, modern] of LEGACY_ALIASES) {
    if (!(legacy in e)) continue;
    if (e[modern] === undefined || e[modern] === null) e[modern] = e[legacy];
    delete e[legacy];
  }

  // The message: logentry (or its aliases) as an object or a string.
  if (e.logentry !== undefined && e.logentry !== null) {
    if (typeof e.logentry === 'string') e.logentry = { formatted: e.logentry };
    else if (!isObj(e.logentry)) invalid('logentry');
  }
  if (isObj(e.logentry)) {
    const entry: Obj = { ...e.logentry };
    // A string `message` beside `sentry.interfaces.Message` is the formatted text (raven-python, raven-php).
    if (entry.formatted === undefined && typeof e.message === 'string' && e.message !== str(entry.message)) entry.formatted = e.message;
    for (const k of ['message', 'formatted'] as const) {
      if (entry[k] !== undefined && entry[k] !== null && typeof entry[k] !== 'string') entry[k] = str(entry[k]) ?? JSON.stringify(entry[k]);
    }
    e.logentry = entry;
    delete e.message;
  } else if (e.message !== undefined && e.message !== null && typeof e.message !== 'string' && !isObj(e.message)) {
    if (typeof e.message === 'number' || typeof e.message === 'boolean') e.message = String(e.message);
    else invalid('message');
  }

  // Exceptions: {values}, a bare list, or one exception.
  if (e.exception !== undefined && e.exception !== null) {
    const values = exceptionValues(e.exception);
    if (!values) invalid('exception');
    else {
      const kept: Obj[] = [];
      values.forEach((x, i) => {
        if (!isObj(x)) errors.push({ type: 'invalid_data', name: `exception.values.${i}`, value: shown(x) });
        else if (x.stacktrace !== undefined && x.stacktrace !== null && !isObj(x.stacktrace)) {
          errors.push({ type: 'invalid_data', name: `exception.values.${i}.stacktrace`, value: shown(x.stacktrace) });
          kept.push({ ...x, stacktrace: undefined });
        } else kept.push(x);
      });
      e.exception = { ...(isObj(e.exception) && !Array.isArray(e.exception) ? e.exception : {}), values: kept };
    }
  }

  // A top-level stacktrace: into the only exception, when it has none (Relay); else the message's stack.
  if (e.stacktrace !== undefined && e.stacktrace !== null) {
    if (!isObj(e.stacktrace)) invalid('stacktrace');
    else if (hasFrames(e.stacktrace)) {
      const values = isObj(e.exception) && Array.isArray(e.exception.values) ? (e.exception.values as Obj[]) : [];
      if (values.length === 1 && !hasFrames(values[0].stacktrace)) {
        e.exception = { ...(e.exception as Obj), values: [{ ...values[0], stacktrace: e.stacktrace }] };
        delete e.stacktrace;
      } else if (values.length === 0) {
        const entry = isObj(e.logentry) ? e.logentry : {};
        const text = str(entry.formatted) ?? str(entry.message) ?? str(e.message);
        e.exception = {
          values: [
            {
              ...(text !== undefined ? { value: text } : {}),
              stacktrace: e.stacktrace,
              mechanism: { type: 'stacktrace', synthetic: true },
            },
          ],
        };
        delete e.stacktrace;
      }
    }
  }

  if (e.breadcrumbs !== undefined && e.breadcrumbs !== null) {
    if (Array.isArray(e.breadcrumbs)) e.breadcrumbs = { values: e.breadcrumbs };
    else if (!isObj(e.breadcrumbs) || !Array.isArray(e.breadcrumbs.values)) invalid('breadcrumbs');
  }

  if (e.request !== undefined && e.request !== null) {
    if (isObj(e.request)) e.request = requestOf(e.request, errors);
    else invalid('request');
  }

  for (const k of ['user', 'contexts', 'extra', 'sdk', 'template', 'debug_meta', 'modules'] as const) {
    // PHP encodes an empty array as `[]` (raven-php's `extra: []`, `user: []`): that is "none", not an error.
    if (Array.isArray(e[k]) && (e[k] as unknown[]).length === 0) delete e[k];
    else if (e[k] !== undefined && e[k] !== null && !isObj(e[k])) invalid(k);
  }

  if (e.tags !== undefined && e.tags !== null) {
    const tags = pairsToObject(e.tags);
    if (!tags) invalid('tags');
    else e.tags = tags;
  }
  // `site` is deprecated in favor of a tag of that name.
  if (typeof e.site === 'string' && e.site) {
    const tags = isObj(e.tags) ? e.tags : {};
    if (!('site' in tags)) e.tags = { ...tags, site: e.site };
  }

  if (e.fingerprint !== undefined && e.fingerprint !== null && !Array.isArray(e.fingerprint)) {
    if (typeof e.fingerprint === 'string') e.fingerprint = [e.fingerprint];
    else invalid('fingerprint');
  }

  if (typeof e.level === 'number') e.level = NUMERIC_LEVELS[e.level] ?? 'error';
  else if (e.level !== undefined && e.level !== null && typeof e.level !== 'string') invalid('level');

  if (e.timestamp !== undefined && e.timestamp !== null) {
    e.timestamp = timestampOf(e.timestamp);
    const ms = typeof e.timestamp === 'number' || /^\d+(\.\d+)?$/.test(String(e.timestamp)) ? 1 : Date.parse(String(e.timestamp));
    if (typeof e.timestamp !== 'number' && typeof e.timestamp !== 'string') invalid('timestamp');
    else if (!Number.isFinite(ms)) invalid('timestamp');
  }

  if (e.event_id !== undefined && e.event_id !== null) {
    const id = typeof e.event_id === 'string' ? e.event_id.replaceAll('-', '').toLowerCase() : '';
    if (!/^[0-9a-f]{32}$/.test(id)) invalid('event_id');
  }

  for (const k of ['culprit', 'transaction', 'release', 'environment', 'server_name', 'dist', 'logger', 'platform'] as const) {
    if (e[k] === undefined || e[k] === null || typeof e[k] === 'string') continue;
    // Relay's LenientString: numbers and booleans are taken as their text.
    if (typeof e[k] === 'number' || typeof e[k] === 'boolean') e[k] = String(e[k]);
    else invalid(k);
  }
  return { event: e, errors };
}

/** Sentry's event types; only these (and none) are error events. */
export const ERROR_EVENT_TYPES = new Set(['error', 'default']);
export const SECURITY_EVENT_TYPES = new Set(['csp', 'hpkp', 'expectct', 'expectstaple']);

export type EventClass = 'error' | 'transaction' | 'security' | 'feedback' | 'other';

/**
 * What a (modernized) event body is, by its `type`: error events (no type, "error",
 * "default"), transactions, security reports (by type, or by a csp/hpkp/expectct/
 * expectstaple interface on an event that has no exception), feedback, or another kind
 * that must never become an error event.
 */
export function classifyEvent(e: Obj): EventClass {
  const type = typeof e.type === 'string' ? e.type.toLowerCase() : undefined;
  if (type === 'transaction') return 'transaction';
  if (type !== undefined && SECURITY_EVENT_TYPES.has(type)) return 'security';
  if (type === 'feedback') return 'feedback';
  if (type === undefined || ERROR_EVENT_TYPES.has(type)) {
    return !e.exception && [...SECURITY_EVENT_TYPES].some((k) => isObj(e[k])) ? 'security' : 'error';
  }
  return 'other';
}

/**
 * raven-node and raven-python post /store/ bodies as base64 of zlib-deflated JSON, with
 * no Content-Encoding (Sentry's store endpoint decodes them so): such a body → its JSON.
 * A body that is JSON already, or not that encoding, is returned as it is.
 */
export function decodeStoreBody(buf: Buffer, maxBytes: number): Buffer {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
  if (i >= buf.length || buf[i] === 0x7b || buf[i] === 0x5b) return buf; // { or [
  const text = buf.toString('latin1').trim();
  if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) return buf;
  const packed = Buffer.from(text, 'base64');
  try {
    return inflateSync(packed, { maxOutputLength: maxBytes });
  } catch (err) {
    if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw payloadTooLarge(`The event is over ${maxBytes} bytes once inflated`);
    return buf;
  }
}

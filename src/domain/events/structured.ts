/**
 * The structured part of an error event (stored in `events.data`, jsonb): what a person
 * fixing the bug reads — the exception chain with its mechanism, frames with their
 * source context and variables, breadcrumbs, request, user, contexts, SDK. Every format
 * that knows these things fills this shape; the API and the admin render it.
 *
 * Sizes are bounded here, so one event can never bloat a job or a row: strings are
 * clipped, long stacks keep their ends, breadcrumbs keep the latest.
 */
import { cleanJson, cleanText } from './record.ts';

export interface MinifiedPosition {
  abs_path?: string;
  filename?: string;
  module?: string;
  function?: string;
  lineno?: number;
  colno?: number;
}

export interface StackFrame {
  filename?: string;
  abs_path?: string;
  module?: string;
  function?: string;
  lineno?: number;
  colno?: number;
  in_app?: boolean;
  pre_context?: string[];
  context_line?: string;
  post_context?: string[];
  vars?: Record<string, unknown>;
  platform?: string;
  instruction_addr?: string;
  /** Set when a source map rewrote this frame: where the minified code was. */
  minified?: MinifiedPosition;
  /** The debug id of the bundle the frame came from (from debug_meta), when known. */
  debug_id?: string;
}

export interface Mechanism {
  type?: string;
  handled?: boolean;
  synthetic?: boolean;
  description?: string;
  help_link?: string;
  source?: string;
  exception_id?: number;
  parent_id?: number;
  is_exception_group?: boolean;
  data?: Record<string, unknown>;
}

export interface ExceptionData {
  type?: string;
  value?: string;
  module?: string;
  mechanism?: Mechanism;
  thread_id?: string;
  /** Oldest call first, as Sentry sends them; the crashing frame is last. */
  frames: StackFrame[];
  /** How many frames were dropped from the middle of a very deep stack. */
  frames_omitted?: number;
}

export interface Breadcrumb {
  timestamp?: string;
  type?: string;
  category?: string;
  level?: string;
  message?: string;
  data?: Record<string, unknown>;
}

export interface DebugImage {
  type?: string;
  debug_id?: string;
  code_file?: string;
}

export interface EventData {
  /** Outermost cause first, the exception that was raised last (Sentry's order). */
  exceptions?: ExceptionData[];
  breadcrumbs?: Breadcrumb[];
  request?: Record<string, unknown>;
  user?: Record<string, unknown>;
  contexts?: Record<string, unknown>;
  sdk?: Record<string, unknown>;
  dist?: string;
  platform?: string;
  server_name?: string;
  transaction?: string;
  /** logentry: the template and its parameters, when the SDK sent them apart. */
  logentry?: { message: string; params?: unknown };
  debug_meta?: { images: DebugImage[] };
  modules?: Record<string, unknown>;
  /** False when any exception's mechanism says unhandled: a crash, not a caught error. */
  handled?: boolean;
  /** The SDK's own culprit (legacy SDKs send one; ours is computed when grouping). */
  culprit?: string;
  /** Where a template error is (raven-python's Django integration: `sentry.interfaces.Template`). */
  template?: Record<string, unknown>;
  /** A browser security report (src/domain/ingest/formats/sentry/security.ts): which kind, and the report. */
  security?: { kind: string; report: Record<string, unknown> };
  /** Fields dropped for their type, as Sentry lists them (src/domain/ingest/formats/sentry/legacy.ts). */
  errors?: Array<{ type: string; name: string; value?: string }>;
}

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : undefined);

export const LIMITS = {
  framesPerException: 250,
  exceptions: 20,
  contextLines: 10,
  lineChars: 500,
  stringChars: 8192,
  breadcrumbs: 100,
  varsJsonChars: 4096,
  jsonChars: 64 * 1024,
};

const clipStr = (s: string | undefined, max = LIMITS.stringChars) =>
  s === undefined ? undefined : cleanText(s.length > max ? s.slice(0, max) : s);

/** JSON of arbitrary shape, kept when it fits `max` characters, else summarized. */
function boundedJson(v: unknown, max = LIMITS.jsonChars): Obj | undefined {
  if (!isObj(v)) return undefined;
  const text = JSON.stringify(v);
  if (text.length <= max) return cleanJson(v) as Obj;
  // Too big as a whole: keep each top-level entry that fits on its own.
  const out: Obj = {};
  let used = 2;
  for (const [k, val] of Object.entries(v)) {
    const piece = JSON.stringify(val) ?? 'null';
    if (used + piece.length + k.length + 4 > max) {
      out[k] = '[too large]';
      continue;
    }
    used += piece.length + k.length + 4;
    out[k] = cleanJson(val);
  }
  return out;
}

const lines = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.slice(-LIMITS.contextLines).map((l) => clipStr(str(l) ?? '', LIMITS.lineChars)!) : undefined;

function frame(f: Obj): StackFrame {
  const out: StackFrame = {};
  for (const k of ['filename', 'abs_path', 'module', 'function', 'platform', 'instruction_addr'] as const) {
    const v = clipStr(str(f[k]), 1024);
    if (v !== undefined && v !== '') out[k] = v;
  }
  for (const k of ['lineno', 'colno'] as const) {
    const v = int(f[k]);
    if (v !== undefined) out[k] = v;
  }
  if (typeof f.in_app === 'boolean') out.in_app = f.in_app;
  const pre = lines(f.pre_context);
  const post = Array.isArray(f.post_context)
    ? f.post_context.slice(0, LIMITS.contextLines).map((l) => clipStr(str(l) ?? '', LIMITS.lineChars)!)
    : undefined;
  if (pre?.length) out.pre_context = pre;
  const ctx = clipStr(str(f.context_line), LIMITS.lineChars);
  if (ctx !== undefined) out.context_line = ctx;
  if (post?.length) out.post_context = post;
  const vars = boundedJson(f.vars, LIMITS.varsJsonChars);
  if (vars && Object.keys(vars).length) out.vars = vars;
  return out;
}

/** Deep stacks keep their two ends (where it started, where it broke), as Sentry trims them. */
function boundFrames(frames: StackFrame[]): { frames: StackFrame[]; omitted?: number } {
  const max = LIMITS.framesPerException;
  if (frames.length <= max) return { frames };
  const head = Math.floor(max / 4);
  return { frames: [...frames.slice(0, head), ...frames.slice(frames.length - (max - head))], omitted: frames.length - max };
}

function mechanism(m: unknown): Mechanism | undefined {
  if (!isObj(m)) return undefined;
  const out: Mechanism = {};
  for (const k of ['type', 'description', 'help_link', 'source'] as const) {
    const v = clipStr(str(m[k]), 1024);
    if (v !== undefined) out[k] = v;
  }
  for (const k of ['handled', 'synthetic', 'is_exception_group'] as const) if (typeof m[k] === 'boolean') out[k] = m[k] as boolean;
  for (const k of ['exception_id', 'parent_id'] as const) {
    const v = int(m[k]);
    if (v !== undefined) out[k] = v;
  }
  const data = boundedJson(m.data, 4096);
  if (data) out.data = data;
  return out;
}

export function exceptionsOf(e: Obj): ExceptionData[] {
  const raw = Array.isArray(e.exception) ? e.exception : isObj(e.exception) && Array.isArray(e.exception.values) ? e.exception.values : [];
  return raw
    .filter(isObj)
    .slice(-LIMITS.exceptions)
    .map((x) => {
      const st = isObj(x.stacktrace) ? x.stacktrace : isObj(x.raw_stacktrace) ? x.raw_stacktrace : {};
      const { frames, omitted } = boundFrames((Array.isArray(st.frames) ? st.frames : []).filter(isObj).map(frame));
      const out: ExceptionData = { frames };
      const type = clipStr(str(x.type), 255);
      const value = clipStr(str(x.value));
      const module = clipStr(str(x.module), 255);
      if (type) out.type = type;
      if (value !== undefined) out.value = value;
      if (module) out.module = module;
      const mech = mechanism(x.mechanism);
      if (mech) out.mechanism = mech;
      const thread = str(x.thread_id);
      if (thread) out.thread_id = thread;
      if (omitted) out.frames_omitted = omitted;
      return out;
    });
}

function breadcrumbsOf(v: unknown): Breadcrumb[] | undefined {
  const raw = Array.isArray(v) ? v : isObj(v) && Array.isArray(v.values) ? v.values : null;
  if (!raw) return undefined;
  return raw
    .filter(isObj)
    .slice(-LIMITS.breadcrumbs)
    .map((b) => {
      const out: Breadcrumb = {};
      const ts = b.timestamp;
      if (typeof ts === 'number' && Number.isFinite(ts)) out.timestamp = new Date(ts > 1e11 ? ts : ts * 1000).toISOString();
      else if (typeof ts === 'string') out.timestamp = clipStr(ts, 64);
      for (const k of ['type', 'category', 'level'] as const) {
        const s = clipStr(str(b[k]), 128);
        if (s) out[k] = s;
      }
      const message = clipStr(str(b.message), 2048);
      if (message !== undefined) out.message = message;
      const data = boundedJson(b.data, 2048);
      if (data) out.data = data;
      return out;
    });
}

function debugMetaOf(v: unknown): EventData['debug_meta'] {
  if (!isObj(v) || !Array.isArray(v.images)) return undefined;
  const images = v.images
    .filter(isObj)
    .slice(0, 500)
    .map((i) => ({ type: clipStr(str(i.type), 32), debug_id: clipStr(str(i.debug_id), 64), code_file: clipStr(str(i.code_file), 1024) }))
    .filter((i) => i.debug_id);
  return images.length ? { images } : undefined;
}

/**
 * Python's %-formatting, which is what `logentry.message` + `params` mean (sentry-python's
 * logging integration, `sentry-cli send-event -a`): %s %d %i %f %r %%, and %(name)s with a
 * mapping. Anything it cannot place is left as written.
 */
export function formatLogentry(template: string, params: unknown): string {
  const positional = Array.isArray(params) ? params : params === undefined || params === null || isObj(params) ? [] : [params];
  const named = isObj(params) ? params : {};
  let i = 0;
  const show = (v: unknown, conv: string) => {
    if (v === undefined) return undefined;
    if (conv === 'd' || conv === 'i') return typeof v === 'number' ? String(Math.trunc(v)) : String(v);
    if (conv === 'r') return typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
    return typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  };
  return template.replace(/%(?:\(([^)]+)\))?[-#0 +]*\d*(?:\.\d+)?([sdifrx%])/g, (whole, name: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const v = name !== undefined ? named[name] : positional[i++];
    if (conv === 'f' && typeof v === 'number') {
      const precision = /\.(\d+)/.exec(whole);
      return v.toFixed(precision ? Number(precision[1]) : 6);
    }
    if (conv === 'x' && typeof v === 'number') return Math.trunc(v).toString(16);
    return show(v, conv) ?? whole;
  });
}

/** The message of a logentry/message field: `formatted` when sent, else the template with its params. */
export function logentryOf(e: Obj): { text?: string; template?: string; params?: unknown } {
  for (const k of ['logentry', 'message'] as const) {
    const m = e[k];
    if (isObj(m)) {
      const formatted = str(m.formatted);
      const template = str(m.message);
      if (formatted !== undefined)
        return { text: formatted, template: template && template !== formatted ? template : undefined, params: m.params };
      if (template !== undefined) {
        const hasParams = m.params !== undefined && m.params !== null;
        return {
          text: hasParams ? formatLogentry(template, m.params) : template,
          template: hasParams ? template : undefined,
          params: m.params,
        };
      }
    } else if (typeof m === 'string') {
      return { text: m };
    }
  }
  return {};
}

/** `user.ip_address: "{{auto}}"` means "the address this request came from", as Sentry fills it in. */
function userOf(v: unknown, clientIp: string | undefined): Obj | undefined {
  if (!isObj(v)) return undefined;
  const user = boundedJson(v, 8192) ?? {};
  if (user.ip_address === '{{auto}}') {
    if (clientIp) user.ip_address = clientIp;
    else delete user.ip_address;
  }
  return user;
}

export interface StructureOptions {
  /** The address the event came from, for `{{auto}}`. */
  clientIp?: string;
}

/** Everything of a Sentry event that the structured view needs, bounded. */
export function eventDataOf(e: Obj, excs: ExceptionData[], opts: StructureOptions = {}): EventData {
  const data: EventData = {};
  if (excs.length) data.exceptions = excs;
  const crumbs = breadcrumbsOf(e.breadcrumbs);
  if (crumbs?.length) data.breadcrumbs = crumbs;
  const request = boundedJson(e.request);
  if (request) data.request = request;
  const user = userOf(e.user, opts.clientIp);
  if (user && Object.keys(user).length) data.user = user;
  const contexts = boundedJson(e.contexts);
  if (contexts) data.contexts = contexts;
  const sdk = boundedJson(e.sdk, 8192);
  if (sdk) data.sdk = sdk;
  const modules = boundedJson(e.modules, 16 * 1024);
  if (modules) data.modules = modules;
  for (const k of ['dist', 'platform', 'server_name', 'transaction'] as const) {
    const v = clipStr(str(e[k]), 250);
    if (v) data[k] = v;
  }
  const entry = logentryOf(e);
  if (entry.template !== undefined)
    data.logentry = { message: clipStr(entry.template)!, ...(entry.params !== undefined ? { params: cleanJson(entry.params) } : {}) };
  const debugMeta = debugMetaOf(e.debug_meta);
  if (debugMeta) data.debug_meta = debugMeta;
  if (excs.some((x) => x.mechanism?.handled === false)) data.handled = false;
  else if (excs.some((x) => x.mechanism?.handled === true)) data.handled = true;
  return data;
}

/** Tags Sentry derives from contexts, so facets can count them: browser, os, runtime, device. */
export function contextTags(contexts: Obj | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!contexts) return out;
  for (const key of ['browser', 'os', 'runtime', 'device'] as const) {
    const c = contexts[key];
    if (!isObj(c)) continue;
    const name = str(c.name) ?? (key === 'device' ? (str(c.model) ?? str(c.family)) : undefined);
    if (!name) continue;
    const version = str(c.version);
    out[key] = clipStr(version && key !== 'device' ? `${name} ${version}` : name, 200)!;
    out[`${key}.name`] = clipStr(name, 200)!;
  }
  return out;
}

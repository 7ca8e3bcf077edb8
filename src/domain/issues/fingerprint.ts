/**
 * Grouping: which error events are "the same problem" (README: "Grouping rules").
 * Versioned, because changing the rules must never split
 * issues that already exist: an event whose current-version fingerprint has no issue
 * yet is matched against the fingerprint the previous version gives it
 * (src/domain/issues/assign.ts), and joins that issue if there is one.
 *
 * Version 2 (current), in order of precedence:
 *  1. an explicit fingerprint sent by the client (Sentry's `fingerprint`, where
 *     "{{ default }}" stands for the default grouping below);
 *  2. the exception chain: each exception's type (unless the SDK made it up —
 *     mechanism.synthetic) and its frames — only the in-app ones when the event has any.
 *     A frame is its module (or file name, with build hashes stripped) plus its function;
 *     a frame without a real function name (anonymous callbacks, Python's `<module>`,
 *     Node's `Object.<anonymous>`) falls back to its source line (context_line), then to
 *     its line number. Source-mapped frames group by their original names;
 *  3. an exception without frames: its type and its message, normalized;
 *  4. otherwise the message — the logentry template when the SDK sent one ("host=%s"),
 *     else the text — with the parts that vary (numbers, hex ids, UUIDs, timestamps)
 *     stripped.
 * Version 1 (the first round) is kept, unchanged, for matching older issues.
 * Every ingest path goes through here, so Panties, DataIdea and Sentry events group alike.
 */
import { createHash } from 'node:crypto';
import type { ExceptionData, StackFrame } from '../events/structured.ts';

export interface Frame {
  module?: string | null;
  filename?: string | null;
  function?: string | null;
  in_app?: boolean | null;
}

export interface GroupingInput {
  exception_type: string | null;
  message: string;
  stacktrace: string | null;
  /** Structured frames (Sentry), oldest call first. Text stack traces are parsed instead. */
  frames?: Frame[];
  fingerprint?: string[];
  /** The structured exception chain (src/domain/events/structured.ts), outermost first. */
  exceptions?: ExceptionData[];
  /** The logentry template ("host=%s") when the message was formatted from one. */
  template?: string;
}

export interface Grouping {
  fingerprint: string;
  title: string;
  culprit: string | null;
  /** The grouping version that made `fingerprint`. */
  version: number;
  /** The previous version's fingerprint, when it differs: what older issues were keyed by. */
  legacy?: string;
}

const UUID = /\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b/gi;
const ISO_TS = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\b/g;
const HEX_LITERAL = /\b0x[0-9a-f]+\b/gi;
const HEX_ID = /\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi; // 8+ hex characters with a digit: ids, hashes
const NUM = /\d+(\.\d+)?/g;

/** "User 42 not found (req 9f3a…)" and "User 7 not found (req 0c1d…)" become the same text. */
export function normalizeMessage(message: string): string {
  return message
    .replace(UUID, '<uuid>')
    .replace(ISO_TS, '<ts>')
    .replace(HEX_LITERAL, '<hex>')
    .replace(HEX_ID, '<hex>')
    .replace(NUM, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 1000);
}

// Frame lines of the usual text stack traces, in the languages the seeds' clients use.
const FRAME_PATTERNS: RegExp[] = [
  /^\s*File "([^"]+)", line \d+, in (\S+)/, // Python
  /^\s*at (?:async )?([^\s(]+) \((.+?)(?::\d+){1,2}\)\s*$/, // JavaScript: at fn (file:line:col)
  /^\s*at (?:async )?()(\S+?)(?::\d+){1,2}\s*$/, // JavaScript: at file:line:col
  /^\s*at ([\w$.<>]+)\(([^:)]*)(?::\d+)?\)\s*$/, // Java: at pkg.Class.method(File.java:12)
  /^\s*at (.+?), (.+?): line \d+\s*$/, // PowerShell: at Func, C:\path\script.ps1: line 12
  /^\s*at (.+?)\(.*?\)(?: in (.+?):line \d+)?\s*$/, // .NET: at Ns.Class.Method(args) in file:line 12
];

/** module-or-file + function for each frame found in a text stack trace, oldest first as written. */
export function framesFromText(stacktrace: string): string[] {
  const out: string[] = [];
  for (const raw of stacktrace.split('\n').slice(0, 500)) {
    for (const [i, re] of FRAME_PATTERNS.entries()) {
      const m = re.exec(raw);
      if (!m) continue;
      // Python names the file first; the others name the function first.
      const [file, fn] = i === 0 ? [m[1], m[2]] : [m[2] ?? '', m[1]];
      out.push(`${basename(file)}:${fn}`);
      break;
    }
  }
  return out;
}

const basename = (f: string) => f.replace(/\\/g, '/').replace(/^.*\/(?=[^/]+\/[^/]+$)/, '');

function frameKey(f: Frame): string {
  return `${f.module || basename(f.filename ?? '') || '?'}:${f.function || '?'}`;
}

function defaultComponents(e: GroupingInput): { parts: string[]; culprit: string | null } {
  if (e.frames?.length) {
    const inApp = e.frames.filter((f) => f.in_app);
    const frames = inApp.length ? inApp : e.frames;
    const last = frames.at(-1)!;
    return {
      parts: ['frames', e.exception_type ?? '', ...frames.map(frameKey)],
      culprit: `${last.module || last.filename || '?'} in ${last.function || '?'}`,
    };
  }
  const textFrames = e.stacktrace ? framesFromText(e.stacktrace) : [];
  if (textFrames.length) {
    const last = textFrames.at(-1)!;
    const [where, fn] = [last.slice(0, last.lastIndexOf(':')), last.slice(last.lastIndexOf(':') + 1)];
    return { parts: ['frames', e.exception_type ?? '', ...textFrames], culprit: `${where} in ${fn}` };
  }
  return { parts: ['message', e.exception_type ?? '', normalizeMessage(e.message)], culprit: null };
}

const firstLine = (s: string) => s.split('\n', 1)[0].trim();

/** Version 1, exactly as the first round shipped it. */
export function groupEventV1(e: GroupingInput): Omit<Grouping, 'version' | 'legacy'> {
  const def = defaultComponents(e);
  const parts = e.fingerprint?.length
    ? ['custom', ...e.fingerprint.flatMap((p) => (/^\{\{\s*default\s*\}\}$/.test(p) ? def.parts : [p]))]
    : def.parts;
  const title = e.exception_type ? `${e.exception_type}: ${firstLine(e.message)}` : firstLine(e.message) || '(no message)';
  return {
    fingerprint: createHash('sha256').update(parts.join('\u0000')).digest('hex'),
    title: title.slice(0, 255),
    culprit: def.culprit?.slice(0, 255) ?? null,
  };
}

// ---- version 2 --------------------------------------------------------------------

export const GROUPING_VERSION = 2;

/** Names that are not a function: top-level code and anonymous callbacks, per language. */
const NOT_A_FUNCTION =
  /^(?:\?|<module>|<lambda>|<anonymous>|anonymous|Object\.<anonymous>|<unknown>|\{main\}|<main>|<top \(required\)>|<genexpr>|<listcomp>|<dictcomp>|<setcomp>)$/;

/** Build hashes in bundle names (main.3f9a2c1b.js, chunk-4f2a91de.js) change every deploy. */
const BUILD_HASH = /[.-][0-9a-f]{8,}(?=\.[a-z]+$)/i;

export function groupingFunction(name: string | null | undefined): string | null {
  const fn = name?.trim().replace(/^async /, '');
  if (!fn || NOT_A_FUNCTION.test(fn)) return null;
  // Generated lambda names carry counters (Java lambda$main$0, Python <lambda> is handled above).
  return fn.replace(/\$\d+/g, '$<n>');
}

function groupingFile(f: Pick<StackFrame, 'module' | 'filename' | 'abs_path'>): string {
  if (f.module) return f.module;
  const file = (f.filename || f.abs_path || '').replace(/[?#].*$/, '');
  return basename(file).replace(BUILD_HASH, '') || '?';
}

/** A source line short enough to be code someone wrote (minified lines are not). */
const MAX_CONTEXT_CHARS = 120;

function frameKeyV2(f: StackFrame): string {
  const where = groupingFile(f);
  const fn = groupingFunction(f.function);
  if (fn) return `${where}:${fn}`;
  const ctx = f.context_line?.trim().replace(/\s+/g, ' ');
  if (ctx && ctx.length <= MAX_CONTEXT_CHARS) return `${where}:ctx:${ctx}`;
  if (f.lineno !== undefined && f.lineno !== null) return `${where}:line:${f.lineno}${ctx ? `:${f.colno ?? ''}` : ''}`;
  return `${where}:?`;
}

const TEXT_PATTERNS: Array<{ re: RegExp; file: number; fn: number; line: number; col?: number }> = [
  { re: /^\s*File "([^"]+)", line (\d+), in (.+?)\s*$/, file: 1, line: 2, fn: 3 }, // Python
  { re: /^\s*at (?:async )?([^\s(]+) \((.+?):(\d+)(?::(\d+))?\)\s*$/, fn: 1, file: 2, line: 3, col: 4 }, // JavaScript: at fn (file:line:col)
  { re: /^\s*at (?:async )?()(\S+?):(\d+)(?::(\d+))?\s*$/, fn: 1, file: 2, line: 3, col: 4 }, // JavaScript: at file:line:col
  { re: /^\s*at ([\w$.<>]+)\(([^:)]*)(?::(\d+))?\)\s*$/, fn: 1, file: 2, line: 3 }, // Java
  { re: /^\s*at (.+?), (.+?): line (\d+)\s*$/, fn: 1, file: 2, line: 3 }, // PowerShell
  { re: /^\s*at (.+?)\(.*?\)(?: in (.+?):line (\d+))?\s*$/, fn: 1, file: 2, line: 3 }, // .NET
];

/** Frames of a text stack trace, structured, in the order written; Python's source line below a frame is its context. */
export function parseTextFrames(stacktrace: string): StackFrame[] {
  const out: StackFrame[] = [];
  const rows = stacktrace.split('\n').slice(0, 500);
  rows.forEach((raw, i) => {
    for (const [n, p] of TEXT_PATTERNS.entries()) {
      const m = p.re.exec(raw);
      if (!m) continue;
      // File names as v1 shows them (the last two segments): culprits stay as they were.
      const f: StackFrame = { filename: m[p.file] ? basename(m[p.file]) : undefined, function: m[p.fn] || undefined };
      if (m[p.line]) f.lineno = Number(m[p.line]);
      if (p.col && m[p.col]) f.colno = Number(m[p.col]);
      const next = rows[i + 1];
      if (n === 0 && next && /^\s{4,}\S/.test(next) && !/^\s*File "/.test(next)) f.context_line = next.trim();
      out.push(f);
      break;
    }
  });
  return out;
}

function culpritOf(frames: StackFrame[]): string | null {
  const last = frames.at(-1);
  if (!last) return null;
  const fn = groupingFunction(last.function);
  return `${last.module || last.filename || last.abs_path || '?'} in ${fn ?? last.function ?? '?'}`;
}

function defaultComponentsV2(e: GroupingInput): { parts: string[]; culprit: string | null } {
  let chain: ExceptionData[] = (e.exceptions ?? []).filter((x) => x.type || x.frames.length);
  if (!chain.length && (e.frames?.length || e.stacktrace)) {
    const frames: StackFrame[] = e.frames?.length ? (e.frames as StackFrame[]) : parseTextFrames(e.stacktrace ?? '');
    if (frames.length) chain = [{ type: e.exception_type ?? undefined, frames }];
  }
  const withFrames = chain.filter((x) => x.frames.length);
  if (withFrames.length) {
    const anyInApp = withFrames.some((x) => x.frames.some((f) => f.in_app === true));
    const parts = ['exception'];
    let culpritFrames: StackFrame[] = [];
    for (const x of chain) {
      const frames = anyInApp ? x.frames.filter((f) => f.in_app === true) : x.frames;
      parts.push(x.mechanism?.synthetic ? '' : (x.type ?? ''));
      if (frames.length) {
        parts.push(...frames.map(frameKeyV2));
        culpritFrames = frames;
      } else if (!x.frames.length) {
        parts.push(normalizeMessage(x.value ?? ''));
      }
    }
    return { parts, culprit: culpritOf(culpritFrames) };
  }
  if (e.exception_type) return { parts: ['exception-message', e.exception_type, normalizeMessage(e.message)], culprit: null };
  return { parts: ['message', normalizeMessage(e.template ?? e.message)], culprit: null };
}

/** The current grouping, with the previous version's fingerprint for matching older issues. */
export function groupEvent(e: GroupingInput): Grouping {
  const def = defaultComponentsV2(e);
  const parts = e.fingerprint?.length
    ? ['custom', ...e.fingerprint.flatMap((p) => (/^\{\{\s*default\s*\}\}$/.test(p) ? def.parts : [p]))]
    : def.parts;
  const v1 = groupEventV1(v1Input(e));
  const title = e.exception_type ? `${e.exception_type}: ${firstLine(e.message)}` : firstLine(e.message) || '(no message)';
  const fingerprint = createHash('sha256')
    .update(`v2\u0000${parts.join('\u0000')}`)
    .digest('hex');
  return {
    fingerprint,
    title: title.slice(0, 255),
    culprit: def.culprit?.slice(0, 255) ?? null,
    version: GROUPING_VERSION,
    ...(v1.fingerprint !== fingerprint ? { legacy: v1.fingerprint } : {}),
  };
}

/** What version 1 saw: the main exception's frames as the SDK sent them (before source maps). */
function v1Input(e: GroupingInput): GroupingInput {
  if (e.frames?.length || !e.exceptions?.length) return e;
  const main = e.exceptions.filter((x) => x.type).at(-1);
  const frames = (main?.frames ?? []).slice(-100).map((f) => {
    const m = f.minified;
    return {
      module: m ? m.module : f.module,
      filename: m ? m.filename : f.filename,
      function: m ? m.function : f.function,
      in_app: f.in_app,
    };
  });
  return { ...e, frames };
}

/**
 * Grouping: which error events are "the same problem". In order of precedence:
 *  1. an explicit fingerprint sent by the client (Sentry's `fingerprint`, where
 *     "{{ default }}" stands for the default grouping below);
 *  2. the exception type plus the stack's in-app frames (module or file + function —
 *     never line numbers, never the exception's message);
 *  3. otherwise the message, with the parts that vary between occurrences (numbers, hex
 *     ids, UUIDs, timestamps) stripped.
 * Every ingest path goes through here, so seed 1, seed 3 and Sentry events group alike.
 */
import { createHash } from 'node:crypto';

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
}

export interface Grouping {
  fingerprint: string;
  title: string;
  culprit: string | null;
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

export function groupEvent(e: GroupingInput): Grouping {
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

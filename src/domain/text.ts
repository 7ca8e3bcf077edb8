import { badRequest } from './errors.ts';

/**
 * What PostgreSQL cannot store, and JSON too deep to handle safely, checked where
 * requests come in. Two policies, on purpose:
 * - values a caller asks us to *look up or change* (filters, ids, names, labels,
 *   settings, passwords) are refused with a 400 naming the field: silently changing
 *   them would match or save something other than what was asked;
 * - values being *ingested* (event messages, log lines, prompts) are data: NUL there is
 *   replaced with U+FFFD by the normalizers (`cleanText`), so nothing a client reports
 *   is lost over one byte.
 */

/** Deeper JSON than this is refused: recursive code (ours, zod, JSON.stringify) would overflow its stack. */
export const MAX_JSON_DEPTH = 128;

export interface JsonProblem {
  path: string;
  message: string;
}

const NUL_MESSAGE = 'contains a NUL character (\\u0000), which cannot be stored';

/**
 * The first problem in a parsed JSON value (or query object): nesting past `maxDepth`,
 * or — with `nul` — a NUL character in a string or key. Iterative, so a hostile depth
 * cannot overflow the stack here either.
 */
export function jsonProblem(value: unknown, opts: { nul: boolean; maxDepth?: number; prefix?: string }): JsonProblem | null {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Array<[unknown, string, number]> = [[value, opts.prefix ?? '', 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (opts.nul && v.includes('\u0000')) return { path: path || 'body', message: NUL_MESSAGE };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { path: path || 'body', message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], path ? `${path}.${i}` : String(i), depth + 1]);
    } else {
      for (const [k, child] of Object.entries(v)) {
        const childPath = path ? `${path}.${k}` : k;
        if (opts.nul && k.includes('\u0000')) return { path: childPath.replaceAll('\u0000', '\\u0000'), message: `key ${NUL_MESSAGE}` };
        stack.push([child, childPath, depth + 1]);
      }
    }
  }
  return null;
}

/** Throws the 400 for `jsonProblem`'s finding: `invalid_text` for NUL, `too_deep` for nesting. */
export function assertStorable(value: unknown, opts: { nul: boolean; maxDepth?: number; prefix?: string }): void {
  const problem = jsonProblem(value, opts);
  if (!problem) return;
  const deep = problem.message.startsWith('nested');
  throw badRequest(deep ? 'JSON nested too deeply' : 'Text cannot contain NUL characters', [problem], deep ? 'too_deep' : 'invalid_text');
}

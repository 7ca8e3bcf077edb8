/**
 * The scrubber: one pass over a value (string, object, array), copy-on-write — what has
 * nothing to scrub is returned as is, unallocated. Two kinds of checks:
 *  - by key: a key that looks secret (`password`, `token`, `cookie`, …) has its whole
 *    value filtered, whatever it is; a project's key rules (`customer_id`, or a path glob
 *    `extra.customer.*`) mask, hash or remove whole values;
 *  - by text: strings are searched for secrets (key=value text and query strings,
 *    bearer tokens, JWTs, AWS access keys, PEM private keys, Luhn-valid card numbers) and,
 *    per project, emails, IP addresses, phone numbers and custom regexes (RE2: linear
 *    time, a user's pattern cannot hang the worker).
 * Every pattern is compiled once per rule set; short strings and non-strings cost a
 * typeof. Exempt paths are left alone entirely. Hashes are keyed (HMAC-SHA256 with the
 * server's secret) so the same value gives the same hash in every event — grouping by
 * user and "users affected" still work — and scrubbing a hash again leaves it as it is.
 */
import { createHmac } from 'node:crypto';
import cardValidator from 'card-validator';
import ipaddr from 'ipaddr.js';
import { findPhoneNumbersInText, type CountryCode } from 'libphonenumber-js';
import { isMatch } from 'matcher';
import { RE2JS } from 're2js';
import { DEFAULT_RULES, FILTERED, MASK, type Mark, type ProjectRule, type RuleAction } from './rules.ts';

/** Marks kept per stored item at most (a value full of card numbers marks once per path anyway). */
const MAX_MARKS = 100;
/** Strings shorter than this hold no secret worth a regex (the shortest default pattern is longer). */
const MIN_TEXT = 6;

// --- keys ---------------------------------------------------------------------------

const SECRET_KEY =
  /(?:^|_)(?:password|passwd|pwd|passphrase|secret|secrets|client_secret|token|access_token|refresh_token|auth_token|id_token|api_key|apikey|x_api_key|authorization|proxy_authorization|auth|cookie|cookies|set_cookie|session|sessionid|session_id|sid|csrf|csrftoken|csrf_token|xsrf|xsrf_token|private_key|privatekey|credential|credentials|secret_key|access_key)(?:$|_)/;
const secretKeys = new Map<string, boolean>();
/** `passwordConfirm`, `X-Api-Key`, `SESSION_ID`, `set-cookie` all count; `prompt_tokens` does not. */
export function isSecretKey(key: string): boolean {
  let hit = secretKeys.get(key);
  if (hit === undefined) {
    const norm = key
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[-\s.]+/g, '_');
    hit = SECRET_KEY.test(norm);
    if (secretKeys.size > 20_000) secretKeys.clear();
    secretKeys.set(key, hit);
  }
  return hit;
}

// --- text ---------------------------------------------------------------------------

interface TextRule {
  name: string;
  /** Cheap test first: no regex runs on a string that cannot match. */
  maybe: (s: string) => boolean;
  /** Replaces every match; answers the input itself when nothing matched. */
  apply: (s: string, replace: (match: string) => string) => string;
  action: RuleAction;
}

const HASHED = /^\[hash:[0-9a-f]{16}\]$/;

/**
 * Splits a match into what stays before, the secret, and what stays after (default: all of
 * it is the secret) — or answers how far into the match to look again, for a match that
 * holds no secret itself but whose tail may (`url: https://x/?token=…`).
 */
type Split = (m: RegExpExecArray) => [string, string, string] | number;

function regexRule(
  name: string,
  re: RegExp,
  maybe: (s: string) => boolean,
  action: RuleAction = 'mask',
  accept?: (m: string) => boolean,
  split?: Split,
): TextRule {
  return {
    name,
    maybe,
    action,
    apply: (s, replace) => {
      re.lastIndex = 0;
      let out: string | null = null;
      let last = 0;
      for (let m = re.exec(s); m; m = re.exec(s)) {
        const parts = split ? split(m) : (['', m[0], ''] as [string, string, string]);
        if (typeof parts === 'number') {
          re.lastIndex = m.index + Math.max(1, parts);
          continue;
        }
        const [before, secret, after] = parts;
        if (!secret || secret === FILTERED || secret === MASK || HASHED.test(secret) || (accept && !accept(secret))) continue;
        out = (out ?? '') + s.slice(last, m.index) + before + replace(secret) + after;
        last = m.index + m[0].length;
      }
      return out === null ? s : out + s.slice(last);
    },
  };
}

const hasDigits = (n: number) => (s: string) => {
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++d >= n) return true;
  }
  return false;
};

const SECRET_WORDS =
  'password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|authorization|auth|cookie|session(?:id)?|sid|csrf(?:token)?|xsrf|private[_-]?key|access[_-]?key|credentials?';

const SECRET_WORD = new RegExp(SECRET_WORDS, 'i');
const NOT_A_KEY = /(?:error|exception|warning|failed|failure)$/i;
// Every card number format has a group of four digits or more.
const FOUR_DIGITS = /\d{4}/;

/** The rules on for every project. */
const DEFAULT_TEXT_RULES: TextRule[] = [
  regexRule(DEFAULT_RULES.pem, /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----/g, (s) =>
    s.includes('PRIVATE KEY-----'),
  ),
  regexRule(DEFAULT_RULES.jwt, /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, (s) => s.includes('eyJ')),
  regexRule(
    DEFAULT_RULES.bearer,
    /\b(Bearer|Basic|Token)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)/gi,
    (s) => /bearer|basic|token/i.test(s),
    'mask',
    undefined,
    (m) => [m[1] + m[2], m[3], ''],
  ),
  regexRule(DEFAULT_RULES.aws, /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b/g, (s) => s.includes('A')),
  // key=value text, query strings, headers in text, JSON in text: the value goes, the key (and quotes) stay.
  // Keys are whole tokens judged like object keys (isSecretKey: `db_password`, `userToken`; not `inside`), so
  // the pattern has no word alternation to backtrack over and starts only where a token starts: linear.
  regexRule(
    DEFAULT_RULES.keyValue,
    /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]{2,64})(["']?\s*[=:]\s*)(?:"([^"]*)"|'([^']*)'|([^\s&;,"'<>]+))/g,
    (s) => (s.includes('=') || s.includes(':')) && SECRET_WORD.test(s),
    'mask',
    undefined,
    (m) => {
      // `AuthError: login failed` is an exception's text, not a credential.
      if (!isSecretKey(m[1]) || NOT_A_KEY.test(m[1])) return m[1].length + m[2].length;
      const before = m[1] + m[2];
      return m[3] !== undefined ? [before + '"', m[3], '"'] : m[4] !== undefined ? [before + "'", m[4], "'"] : [before, m[5], ''];
    },
  ),
  regexRule(
    DEFAULT_RULES.card,
    /\b\d(?:[ -]?\d){12,18}\b/g,
    (s) => FOUR_DIGITS.test(s),
    'mask',
    (m) => {
      const digits = m.replace(/[ -]/g, '');
      return cardValidator.number(digits).isValid;
    },
  ),
];

/** Anything a default text rule could match starts with one of these (a loose, cheap superset). */
const ANY_DEFAULT = new RegExp(
  `PRIVATE KEY-----|eyJ|bearer|basic|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|\\d{4}|${SECRET_WORDS}`,
  'i',
);

function optionalTextRule(rule: ProjectRule): TextRule | null {
  const name = `${rule.kind}#${rule.id}`;
  const action = rule.action ?? 'mask';
  switch (rule.kind) {
    case 'email':
      return regexRule(name, /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, (s) => s.includes('@'), action);
    case 'ip':
      return {
        name,
        action,
        maybe: (s) => s.includes('.') || s.includes(':'),
        apply: (s, replace) => {
          const v4 = regexRule(
            name,
            /\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b/g,
            () => true,
            action,
          );
          const v6 = regexRule(
            name,
            /(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[0-9A-Za-z]+)?/g,
            () => true,
            action,
            (m) => m.length > 2 && ipaddr.IPv6.isValid(m),
          );
          return v6.apply(v4.apply(s, replace), replace);
        },
      };
    case 'phone': {
      const country = rule.pattern && /^[A-Z]{2}$/.test(rule.pattern) ? (rule.pattern as CountryCode) : undefined;
      return {
        name,
        action,
        maybe: hasDigits(7),
        apply: (s, replace) => {
          const found = findPhoneNumbersInText(s, country ? { defaultCountry: country } : undefined);
          if (!found.length) return s;
          let out = '';
          let last = 0;
          for (const f of found) {
            out += s.slice(last, f.startsAt) + replace(s.slice(f.startsAt, f.endsAt));
            last = f.endsAt;
          }
          return out + s.slice(last);
        },
      };
    }
    case 'regex': {
      if (!rule.pattern) return null;
      const re = RE2JS.compile(rule.pattern);
      return {
        name,
        action,
        maybe: () => true,
        apply: (s, replace) => {
          const m = re.matcher(s);
          let out: string | null = null;
          let last = 0;
          while (m.find()) {
            const start = m.start();
            const end = m.end();
            if (end === start) continue;
            out = (out ?? '') + s.slice(last, start) + replace(s.slice(start, end));
            last = end;
          }
          return out === null ? s : out + s.slice(last);
        },
      };
    }
    default:
      return null;
  }
}

/** Compiles a user regex the way the worker will, so the API refuses what cannot compile (400, not a failing worker). */
export function checkRegex(pattern: string): string | null {
  try {
    RE2JS.compile(pattern);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

// --- paths --------------------------------------------------------------------------

const isPathPattern = (p: string) => p.includes('.') || p.includes('*');

class PathSet {
  private readonly names = new Map<string, number>();
  private readonly globs: Array<{ glob: string; index: number }> = [];
  private readonly cache = new Map<string, number>();
  constructor(patterns: Array<{ pattern: string; index: number }>) {
    for (const { pattern, index } of patterns) {
      if (isPathPattern(pattern)) this.globs.push({ glob: pattern, index });
      else if (!this.names.has(pattern.toLowerCase())) this.names.set(pattern.toLowerCase(), index);
    }
  }
  get empty(): boolean {
    return this.names.size === 0 && this.globs.length === 0;
  }
  /** The index of the first rule matching this key or path, or -1. */
  match(key: string | null, path: string): number {
    if (key !== null && this.names.size) {
      const hit = this.names.get(key.toLowerCase());
      if (hit !== undefined) return hit;
    }
    if (!this.globs.length) return -1;
    let hit = this.cache.get(path);
    if (hit === undefined) {
      hit = -1;
      for (const g of this.globs) {
        if (isMatch(path, g.glob, { caseSensitive: false })) {
          hit = g.index;
          break;
        }
      }
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(path, hit);
    }
    return hit;
  }
}

// --- the pass -----------------------------------------------------------------------

/**
 * The marks of one stored item: deduplicated, bounded. Array positions are written `*`
 * (`data.exceptions.0.frames.*.vars.password`): one mark per field and rule, however many
 * frames or breadcrumbs had it, so a row's marks stay small.
 */
export class Marks {
  readonly list: Mark[] = [];
  private readonly seen = new Set<string>();
  constructor(initial?: readonly Mark[] | null) {
    for (const m of initial ?? []) this.add(m.path, m.rule);
  }
  add(path: string, rule: string): void {
    const key = `${path}\u0000${rule}`;
    if (this.seen.has(key) || this.list.length >= MAX_MARKS) return;
    this.seen.add(key);
    this.list.push({ path, rule });
  }
  /** What the `scrubbed` column gets: null when nothing was scrubbed. */
  get value(): Mark[] | null {
    return this.list.length ? this.list : null;
  }
}

const REMOVED = Symbol('removed');
// Items of these lists are `*` in paths (marks and globs alike); other arrays keep their indexes (exceptions.0).
/** The first of a [name, value] pair is a header, cookie or parameter name, not a line of code. */
const PAIR_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const STAR_LISTS = new Set(['frames', 'breadcrumbs', 'values', 'events', 'links', 'spans']);
const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key));

export class Scrubber {
  private readonly textRules: TextRule[];
  private readonly keyRules: ProjectRule[];
  private readonly keyPaths: PathSet;
  private readonly exempt: PathSet;

  constructor(
    rules: readonly ProjectRule[],
    private readonly hashKey: string,
  ) {
    this.textRules = [...DEFAULT_TEXT_RULES];
    for (const r of rules) {
      const t = optionalTextRule(r);
      if (t) this.textRules.push(t);
    }
    this.keyRules = rules.filter((r) => r.kind === 'key' && r.pattern);
    this.keyPaths = new PathSet(this.keyRules.map((r, index) => ({ pattern: r.pattern!, index })));
    this.exempt = new PathSet(rules.filter((r) => r.kind === 'exempt' && r.pattern).map((r, index) => ({ pattern: r.pattern!, index })));
  }

  /** Keyed, stable, short: the same value always hashes the same under one server secret. */
  hash(value: string): string {
    return `[hash:${createHmac('sha256', this.hashKey).update(value).digest('hex').slice(0, 16)}]`;
  }

  /** A text field (a message, a prompt): the text rules only. */
  text(s: string, path: string, marks: Marks): string {
    if (s.length < MIN_TEXT || (!this.exempt.empty && this.exempt.match(null, path) !== -1)) return s;
    return this.scrubText(s, path, marks);
  }

  private scrubText(s: string, path: string, marks: Marks): string {
    let out = s;
    // One scan decides whether any default rule can match: most strings go by with just that.
    const first = ANY_DEFAULT.test(s) ? 0 : DEFAULT_TEXT_RULES.length;
    for (let i = first; i < this.textRules.length; i++) {
      const rule = this.textRules[i];
      if (!rule.maybe(out)) continue;
      const next = rule.apply(out, (m) =>
        rule.action === 'hash' ? this.hash(m) : rule.action === 'remove' ? '' : rule.name.startsWith('default:') ? FILTERED : MASK,
      );
      if (next !== out) {
        marks.add(path, rule.name);
        out = next;
      }
    }
    return out;
  }

  /** Any JSON value, at `path` (e.g. `extra`, `data`): keys and text. */
  value<T>(v: T, path: string, marks: Marks): T {
    const out = this.walk(v, path, null, marks);
    return (out === REMOVED ? null : out) as T;
  }

  private walk(v: unknown, path: string, key: string | null, marks: Marks): unknown {
    if (v === null || v === undefined || typeof v === 'boolean') return v;
    if (!this.exempt.empty && this.exempt.match(key, path) !== -1) return v;
    if (key !== null) {
      if (isSecretKey(key) && typeof v !== 'number') return this.filterAll(v, path, marks, DEFAULT_RULES.secretKey);
      if (!this.keyPaths.empty) {
        const i = this.keyPaths.match(key, path);
        if (i !== -1) return this.whole(v, path, marks, this.keyRules[i]);
      }
    }
    if (typeof v === 'string') return v.length < MIN_TEXT ? v : this.scrubText(v, path, marks);
    if (typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      // [name, value] pairs (headers, cookies, query as Sentry may send them): the name says whether the value is secret.
      if (v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && PAIR_NAME.test(v[0]) && isSecretKey(v[0])) {
        if (v[1] === FILTERED) return v;
        marks.add(join(path, v[0]), DEFAULT_RULES.secretKey);
        return [v[0], FILTERED];
      }
      let out: unknown[] | null = null;
      const star = key !== null && STAR_LISTS.has(key) ? join(path, '*') : null;
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        const next = this.walk(item, star ?? join(path, i), null, marks);
        if (next !== item && !out) out = v.slice(0, i);
        if (out) out.push(next === REMOVED ? null : next);
      }
      return out ?? v;
    }
    const obj = v as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const item = obj[k];
      const next = this.walk(item, join(path, k), k, marks);
      if (next !== item && !out) {
        out = {};
        for (let j = 0; j < i; j++) out[keys[j]] = obj[keys[j]];
      }
      if (out && next !== REMOVED) out[k] = next;
    }
    return out ?? v;
  }

  /** A secret key's value: every string and number under it becomes [Filtered], the shape stays. */
  private filterAll(v: unknown, path: string, marks: Marks, rule: string): unknown {
    let changed = false;
    const go = (x: unknown): unknown => {
      if (typeof x === 'string') {
        if (x === '' || x === FILTERED) return x;
        changed = true;
        return FILTERED;
      }
      if (typeof x === 'number') {
        changed = true;
        return FILTERED;
      }
      if (Array.isArray(x)) return x.map(go);
      if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, go(y)]));
      return x;
    };
    const out = go(v);
    if (changed) marks.add(path, rule);
    return out;
  }

  /** A key rule: the whole value masked, hashed (as JSON when not a string) or removed. */
  private whole(v: unknown, path: string, marks: Marks, rule: ProjectRule): unknown {
    const name = `key#${rule.id}`;
    if (rule.action === 'remove') {
      marks.add(path, name);
      return REMOVED;
    }
    if (rule.action === 'hash') {
      if (typeof v === 'string' && HASHED.test(v)) return v;
      marks.add(path, name);
      return this.hash(typeof v === 'string' ? v : JSON.stringify(v));
    }
    if (v === FILTERED) return v;
    marks.add(path, name);
    return FILTERED;
  }
}

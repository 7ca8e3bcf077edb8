import type { DataSource, EntityManager } from 'typeorm';
import type { AuditActorType } from '../../entities/AuditEntry.ts';

/** Who made a change, and from where (the request's client IP and user agent). */
export interface AuditActor {
  type: AuditActorType;
  id: number | null;
  /** An email, a key's name and prefix, "system": what the entry shows even after the actor is gone. */
  label: string;
  ip?: string | null;
  userAgent?: string | null;
}

/** `{field: [before, after]}`; a secret field appears with both values redacted, so its change is known, never its value. */
export type Changes = Record<string, [unknown, unknown]>;

export interface AuditInput {
  /** `<target>.<verb>`, e.g. `project.update`, `auth.login_failed`, `admin.events.bulkDelete`. */
  action: string;
  targetType: string;
  targetId?: string | number | null;
  projectId?: number | null;
  changes?: Changes;
}

export const SYSTEM: AuditActor = { type: 'system', id: null, label: 'system' };
export const REDACTED = '[redacted]';

/**
 * Field names whose values never enter the log: password hashes, key and token hashes
 * and secrets, signing secrets, session data. A name is split into words (snake_case,
 * camelCase, kebab-case); it is secret when a word, or two adjacent words, are in the set
 * — so `password_hash`, `keyHash`, `signingSecret` and `api_key` are, `prompt_tokens` is not.
 */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'hash',
  'apikey',
  'authorization',
  'auth',
  'cookie',
  'cookies',
  'session',
  'sessionid',
  'csrf',
  'credential',
  'credentials',
  'salt',
  'sealed',
  'hmac',
  'privatekey',
  'keyhash',
]);
const SECRET_EXACT = new Set(['key', 'access', 'refresh']);
/** Fields whose values are URLs that may carry a secret in their path or query (Slack/Discord webhooks). */
const URL_NAME = /(^|_)(url|webhook|webhook_?url|endpoint)$/i;

const wordsOf = (name: string): string[] =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

export function isSecretField(name: string): boolean {
  const lower = name.toLowerCase();
  if (SECRET_EXACT.has(lower) || SECRET_WORDS.has(lower.replace(/[^a-z0-9]/g, ''))) return true;
  const words = wordsOf(name);
  return words.some((w, i) => SECRET_WORDS.has(w) || (i > 0 && SECRET_WORDS.has(words[i - 1]! + w)));
}

/** A URL down to its scheme and host: `https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com/…`. */
export function redactUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return REDACTED;
  }
}

/** A value as it may be logged: secret fields redacted at any depth, URLs cut to their host, big values cut short. */
export function redactValue(name: string, value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (isSecretField(name)) return REDACTED;
  if (URL_NAME.test(name)) return redactUrl(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value.length > 2000 ? `${value.slice(0, 2000)}…` : value;
  if (typeof value !== 'object') return value;
  if (depth > 4) return '…';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactValue(name, v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactValue(k, v, depth + 1)]));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The changed fields between two snapshots of a row (null for "did not exist"), redacted.
 * A create lists every field of `after`, a delete every field of `before`; `fields`
 * limits the comparison; `ignore` drops bookkeeping columns (updated_at…).
 */
export function diff(
  before: Record<string, unknown> | null | undefined,
  after: Record<string, unknown> | null | undefined,
  opts: { fields?: readonly string[]; ignore?: readonly string[] } = {},
): Changes {
  const ignore = new Set(['updated_at', 'updatedAt', 'last_used_at', 'lastUsedAt', 'last_login', 'lastLogin', ...(opts.ignore ?? [])]);
  const names = opts.fields ?? [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  const out: Changes = {};
  for (const name of names) {
    if (ignore.has(name)) continue;
    const b = before ? (before[name] ?? null) : null;
    const a = after ? (after[name] ?? null) : null;
    if (same(b, a)) continue;
    if (isSecretField(name)) out[name] = [b === null ? null : REDACTED, a === null ? null : REDACTED];
    else out[name] = [redactValue(name, b), redactValue(name, a)];
  }
  return out;
}

type Db = DataSource | EntityManager;

const cut = (v: string | null | undefined, n: number) => (v ? v.slice(0, n) : null);

/**
 * Appends one entry. Pass the transaction's EntityManager to record a change in the same
 * transaction as the change itself (an entry exists exactly when the change committed).
 * `changes` are redacted again here, whoever built them: no secret reaches the table.
 */
export async function record(db: Db, actor: AuditActor, input: AuditInput): Promise<void> {
  const changes: Changes = {};
  for (const [k, pair] of Object.entries(input.changes ?? {})) {
    changes[k] = isSecretField(k)
      ? [pair[0] === null ? null : REDACTED, pair[1] === null ? null : REDACTED]
      : [redactValue(k, pair[0]), redactValue(k, pair[1])];
  }
  await db.query(
    `INSERT INTO audit_log (actor_type, actor_id, actor_label, action, target_type, target_id, project_id, changes, ip, user_agent)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)`,
    [
      actor.type,
      actor.id,
      actor.label.slice(0, 320),
      input.action.slice(0, 100),
      input.targetType.slice(0, 50),
      input.targetId === undefined || input.targetId === null ? null : String(input.targetId).slice(0, 100),
      input.projectId ?? null,
      JSON.stringify(changes),
      cut(actor.ip, 64),
      cut(actor.userAgent, 512),
    ],
  );
}

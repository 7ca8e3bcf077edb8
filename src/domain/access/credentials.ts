import type { IncomingHttpHeaders } from 'node:http';

/**
 * The only code that reads credentials off a request. Every way a client may present
 * one, in one place:
 * - `Authorization: Bearer <token>` (also `JWT <token>` for django-rest-framework-jwt
 *   clients, `Token`/`Api-Key` for API keys) — a user access token or machine token
 *   when it is a JWT, an API key otherwise;
 * - `X-Faultline-Key: <api_key>` (what users put in OTEL_EXPORTER_OTLP_HEADERS);
 * - `Authorization: Basic base64(public:secret)` — the secret is an API key (Langfuse's
 *   exporter sends its key pair this way);
 * - Sentry's `X-Sentry-Auth: Sentry sentry_key=…, sentry_version=7` (or the same in
 *   `Authorization: Sentry …`), and `?sentry_key=` on the URL (browser SDKs, to avoid a
 *   CORS preflight); the deprecated secret part is ignored.
 * Parsing only: whether a credential is valid is the access service's question.
 */
export interface RequestLike {
  headers: IncomingHttpHeaders;
  url?: string;
}

const BEARER = /^(?:Bearer|JWT|Token|Api-Key)\s+(\S+)\s*$/i;

/** The token of `Authorization: Bearer|JWT|Token|Api-Key <token>`, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = header ? BEARER.exec(header) : null;
  return m ? m[1] : null;
}

/** Our JWTs have three dot-separated parts; API keys are `^\w+$`. */
export const isJwt = (token: string): boolean => token.split('.').length === 3;

/** `Sentry sentry_key=…, …` → the key, or null. */
export function sentryKeyOf(value: string | undefined): string | null {
  if (!value) return null;
  const m = /^\s*Sentry\s+(.*)$/i.exec(value);
  if (!m) return null;
  for (const part of m[1].split(',')) {
    const [k, v] = part.split('=', 2).map((s) => s?.trim());
    if (k === 'sentry_key' && v) return v;
  }
  return null;
}

function queryParam(url: string | undefined, name: string): string | null {
  const q = url?.indexOf('?') ?? -1;
  if (!url || q === -1) return null;
  return new URLSearchParams(url.slice(q + 1)).get(name);
}

function basicSecret(header: string | undefined): string | null {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? null : decoded.slice(colon + 1) || null;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export interface KeyOptions {
  /** Also look at Sentry's places (X-Sentry-Auth, `Authorization: Sentry`, ?sentry_key=). */
  sentry?: boolean;
}

/** An API key presented in the headers (or, for Sentry, the query), whatever the style; null when none. */
export function presentedKey(req: RequestLike, opts: KeyOptions = {}): string | null {
  const authorization = header(req.headers, 'authorization');
  if (opts.sentry) {
    const sentry = sentryKeyOf(header(req.headers, 'x-sentry-auth')) ?? sentryKeyOf(authorization) ?? queryParam(req.url, 'sentry_key');
    if (sentry) return sentry;
  }
  const bearer = bearerToken(authorization);
  if (bearer && !isJwt(bearer)) return bearer;
  return header(req.headers, 'x-faultline-key')?.trim() || basicSecret(authorization);
}

/** A JWT presented as `Authorization: Bearer|JWT <token>`; null when none (or when the bearer is an API key). */
export function presentedJwt(req: RequestLike): string | null {
  const bearer = bearerToken(header(req.headers, 'authorization'));
  return bearer && isJwt(bearer) ? bearer : null;
}

/** Whether the request carries any Authorization at all (anonymous uploads are a thing). */
export const hasAuthorization = (req: RequestLike): boolean => Boolean(header(req.headers, 'authorization'));

/** `http(s)://<public_key>[:<secret>]@host[:port]/[path/]<project_id>` → key and project id. */
export function parseDsn(dsn: unknown): { key: string; projectId: number } | null {
  if (typeof dsn !== 'string') return null;
  try {
    const u = new URL(dsn);
    const projectId = Number(u.pathname.split('/').filter(Boolean).at(-1));
    if (!u.username || !Number.isSafeInteger(projectId)) return null;
    return { key: decodeURIComponent(u.username), projectId };
  } catch {
    return null;
  }
}

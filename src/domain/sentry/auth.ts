/**
 * Where Sentry SDKs put the public key: the X-Sentry-Auth header
 * (`Sentry sentry_key=…, sentry_version=7, sentry_client=…`), a `sentry_key` query
 * parameter (browser SDKs, to avoid CORS preflights), an `Authorization: Sentry …`
 * header, or the envelope header's DSN. The deprecated secret part is ignored.
 */
export function keyFromAuthHeader(value: string | undefined): string | null {
  if (!value) return null;
  const m = /^\s*Sentry\s+(.*)$/i.exec(value);
  if (!m) return null;
  for (const part of m[1].split(',')) {
    const [k, v] = part.split('=', 2).map((s) => s?.trim());
    if (k === 'sentry_key' && v) return v;
  }
  return null;
}

export function keyFromQuery(url: string | undefined): string | null {
  if (!url) return null;
  const q = url.indexOf('?');
  if (q === -1) return null;
  return new URLSearchParams(url.slice(q + 1)).get('sentry_key');
}

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

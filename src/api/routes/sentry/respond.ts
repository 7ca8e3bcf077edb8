import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../../domain/errors.ts';
import { sentryRateLimits, type Refusal } from '../../../domain/quotas/index.ts';
import { sendJson, toAppError } from '../../http/send.ts';

/**
 * Browser SDKs post cross-origin (usually as text/plain with ?sentry_key= to avoid a
 * preflight). Any origin may send: the key is the credential, as with Sentry.
 */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': typeof req.headers.origin === 'string' ? req.headers.origin : '*',
    'Access-Control-Expose-Headers': 'X-Sentry-Error, X-Sentry-Rate-Limits, Retry-After',
    Vary: 'Origin',
  };
}

export function preflight(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(204, {
    ...corsHeaders(req),
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': 'X-Sentry-Auth, Content-Type, Content-Encoding, Authorization, sentry-trace, baggage',
    'Access-Control-Max-Age': '3600',
  });
  res.end();
}

/** A header value carries printable ASCII only: anything else in a message (…, —, a user's text) would make writeHead throw. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024);

/**
 * Errors in our shape plus what SDKs read: X-Sentry-Error, and when we shed load a 429
 * with Retry-After and X-Sentry-Rate-Limits so they back off instead of retrying at once.
 */
export function sendSentryError(req: IncomingMessage, res: ServerResponse, err: unknown): AppError {
  let e = toAppError(err);
  const headers: Record<string, string> = { ...corsHeaders(req), ...e.headers, 'X-Sentry-Error': headerSafe(e.message) };
  if (e.code === 'over_capacity') {
    const retry = e.headers['Retry-After'] ?? '5';
    e = new AppError(429, e.code, e.message, e.details, e.headers);
    headers['X-Sentry-Rate-Limits'] = `${retry}::organization:over_capacity`;
  }
  if (e.code === 'rate_limited' && !headers['X-Sentry-Rate-Limits']) {
    const d = e.details as { retry_after: number; category: Refusal['category']; scope: Refusal['scope']; reason: Refusal['reason'] };
    const limits = sentryRateLimits([{ retryAfterSeconds: d.retry_after, category: d.category, scope: d.scope, reason: d.reason }]);
    if (limits) headers['X-Sentry-Rate-Limits'] = limits;
  }
  if (res.headersSent) res.destroy();
  else sendJson(res, e.status, e.toJSON(), headers);
  return e;
}

/**
 * The one error type the HTTP layer knows how to answer. `code` is a stable
 * machine-readable string; `details` carries whatever helps the caller fix the request.
 * Anything thrown that is not an AppError is a bug: it becomes a logged 500.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  toJSON() {
    return { error: this.message, code: this.code, details: this.details };
  }
}

export const badRequest = (message: string, details: unknown = null, code = 'invalid_request') => new AppError(400, code, message, details);
export const unauthorized = (message = 'Authentication required', code = 'authentication_required', details: unknown = null) =>
  new AppError(401, code, message, details, { 'WWW-Authenticate': 'Bearer' });
export const forbidden = (message = 'You do not have permission to do this', code = 'permission_denied') =>
  new AppError(403, code, message);
export const notFound = (message = 'Not found', code = 'not_found') => new AppError(404, code, message);
export const conflict = (message: string, code = 'conflict', details: unknown = null) => new AppError(409, code, message, details);
export const payloadTooLarge = (message: string, details: unknown = null) => new AppError(413, 'payload_too_large', message, details);
export const unavailable = (message: string, retryAfterSeconds: number, code = 'service_unavailable') =>
  new AppError(503, code, message, null, { 'Retry-After': String(retryAfterSeconds) });

/** zod issues, trimmed to what a client needs: where, and what was wrong. */
export function zodDetails(issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string }>, prefix: PropertyKey[] = []) {
  return issues.map((i) => ({ path: [...prefix, ...i.path].map(String).join('.'), message: i.message }));
}

/**
 * PostgreSQL's refusals of text it cannot store (NUL in text: 22021; `\u0000` in jsonb:
 * 22P05) are the caller's input, not our bug: a backstop 400 for any path the edge
 * checks (src/api/middleware/text.ts) did not cover.
 */
export function fromDatabaseError(err: unknown): AppError | null {
  const code = (err as { driverError?: { code?: unknown }; code?: unknown })?.driverError?.code ?? (err as { code?: unknown })?.code;
  if (code === '22021' || code === '22P05') {
    return badRequest(
      'Text cannot contain NUL characters',
      [{ path: 'body', message: 'contains a character PostgreSQL cannot store' }],
      'invalid_text',
    );
  }
  return null;
}

import type { ServerResponse } from 'node:http';
import { ZodError } from 'zod';
import { AppError, fromDatabaseError, zodDetails } from '../../domain/errors.ts';
import { logger } from '../../logger.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Every failure, from the lean path or from Express, becomes `{"error","code","details"}`. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return new AppError(400, 'validation_error', 'Invalid request', zodDetails(err.issues));
  const stored = fromDatabaseError(err);
  if (stored) return stored;
  logger.error({ err }, 'unhandled error');
  return new AppError(500, 'internal_error', 'Internal server error');
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = toAppError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.status, e.toJSON(), e.headers);
}

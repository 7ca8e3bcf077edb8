import type { NextFunction, Request, Response } from 'express';
import { badRequest } from '../../domain/errors.ts';
import { assertStorable } from '../../domain/text.ts';

/**
 * Query strings and paths never reach SQL with a NUL in them (PostgreSQL refuses 0x00
 * in text, and a refused parameter used to take the process down): 400, naming the
 * parameter. Runs before every router, the admin's included.
 */
export function refuseNulInUrl(req: Request, _res: Response, next: NextFunction): void {
  const raw = req.originalUrl ?? req.url;
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  if (/%00/i.test(path)) {
    return next(badRequest('Text cannot contain NUL characters', [{ path: 'path', message: 'the URL path contains %00' }], 'invalid_text'));
  }
  if (q !== -1 && /%00/i.test(raw.slice(q))) {
    try {
      assertStorable(req.query, { nul: true, prefix: '' });
    } catch (err) {
      return next(err);
    }
  }
  next();
}

/** Ingest routes on Express: their text is data, cleaned by the normalizers (see src/domain/text.ts). */
const INGEST = /^\/(?:v1\/)?api\/logs\/?$/;

/** After express.json: JSON bodies nest at most MAX_JSON_DEPTH levels, and only ingested data may hold NUL. */
export function guardJsonBody(req: Request, _res: Response, next: NextFunction): void {
  if (req.body === undefined) return next();
  try {
    assertStorable(req.body, { nul: !(req.method === 'POST' && INGEST.test(req.path)) });
    next();
  } catch (err) {
    next(err);
  }
}

import type { NextFunction, Request, Response } from 'express';
import { AppError, badRequest, notFound, payloadTooLarge } from '../../domain/errors.ts';
import { sendError } from '../http/send.ts';

/** body-parser's errors carry a `type`; give them our shape and codes. */
function fromBodyParser(err: { type?: string; limit?: number; message: string; encoding?: string }): AppError | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return badRequest('Malformed JSON', err.message, 'malformed_json');
    case 'entity.too.large':
      return payloadTooLarge(`Request body exceeds ${err.limit} bytes`, { limit_bytes: err.limit });
    case 'encoding.unsupported':
      return new AppError(415, 'unsupported_encoding', `Unsupported Content-Encoding "${err.encoding ?? ''}"`, {
        supported: ['gzip', 'deflate', 'identity'],
      });
    case 'charset.unsupported':
      return new AppError(415, 'unsupported_charset', err.message);
    case 'request.aborted':
      return badRequest('Request aborted', null, 'request_aborted');
    default:
      return null;
  }
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction) {
  next(notFound(`No route for ${req.method} ${req.path}`));
}

// Express recognises error middleware by its four parameters.
export function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction) {
  const mapped = err && typeof err === 'object' && 'type' in err ? fromBodyParser(err as never) : null;
  sendError(res, mapped ?? err);
}

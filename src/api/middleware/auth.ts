import type { NextFunction, Request, Response } from 'express';
import type { Access, ResolvedAuthToken } from '../../domain/access/index.ts';
import { forbidden, unauthorized } from '../../domain/errors.ts';
import type { User } from '../../entities/User.ts';

declare global {
  // Express's own Request type is extended by declaration merging, which needs a namespace.
  // eslint-disable-next-line @typescript-eslint/no-namespace -- declaration merging needs it
  namespace Express {
    interface Request {
      user?: User;
      /** Set by requireAuthToken: the tool token the request came with. */
      authToken?: ResolvedAuthToken;
    }
  }
}

/** Requires a user access token (the access module's rules); sets req.user. */
export function requireUser(access: Access) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    req.user = await access.user(req);
    next();
  };
}

/** The crash store's admin-only endpoints: staff users. */
export function requireStaff(access: Access) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const user = await access.user(req);
    if (!user.isStaff) throw forbidden('Staff only', 'staff_only');
    req.user = user;
    next();
  };
}

/** For handlers behind requireUser. */
export function currentUser(req: Request): User {
  if (!req.user) throw unauthorized();
  return req.user;
}

// ---- auth tokens (sentry-cli and other tools): a credential of its own kind ----------

/** Requires a tool's auth token (`Bearer flt_…`, the access module's rules); sets req.user and req.authToken. */
export function requireAuthToken(access: Access) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const { user, token } = await access.authToken(req);
    req.user = user;
    req.authToken = token;
    next();
  };
}

/** For handlers behind requireAuthToken. */
export function currentToken(req: Request): ResolvedAuthToken {
  if (!req.authToken) throw unauthorized();
  return req.authToken;
}

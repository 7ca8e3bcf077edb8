import type { NextFunction, Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { verifyToken } from '../../domain/accounts/tokens.ts';
import { activeUser } from '../../domain/accounts/users.ts';
import { unauthorized } from '../../domain/errors.ts';
import type { User } from '../../entities/User.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: User;
    }
  }
}

/** `Bearer <jwt>`, or `JWT <jwt>` as django-rest-framework-jwt clients (seed 5) send it. */
export function bearerToken(header: string | undefined): string | null {
  const m = header ? /^(?:Bearer|JWT)\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : null;
}

/** Requires a valid access token for an active user; sets req.user. */
export function requireUser(ds: DataSource) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw unauthorized('Authentication required', 'authentication_required', 'Valid JWT token must be provided');
    const claims = await verifyToken(token, 'access');
    const user = await activeUser(ds, claims.userId);
    if (!user) throw unauthorized('User is inactive or deleted', 'user_inactive');
    req.user = user;
    next();
  };
}

/** For handlers behind requireUser. */
export function currentUser(req: Request): User {
  if (!req.user) throw unauthorized();
  return req.user;
}

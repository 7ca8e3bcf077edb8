import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import type { DataSource } from 'typeorm';
import { userFromAccessToken } from '../../domain/accounts/credentials.ts';
import { forbidden, unauthorized } from '../../domain/errors.ts';
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

/** The user behind a request's access token: 401 without one (the rules are userFromAccessToken's). */
export async function userFromRequest(ds: DataSource, req: Pick<IncomingMessage, 'headers'>): Promise<User> {
  const token = bearerToken(req.headers.authorization);
  if (!token) throw unauthorized('Authentication required', 'authentication_required', 'Valid JWT token must be provided');
  return userFromAccessToken(ds, token);
}

/** Requires a valid access token for an active user; sets req.user. */
export function requireUser(ds: DataSource) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    req.user = await userFromRequest(ds, req);
    next();
  };
}

/** Seed 4's admin-only endpoints: staff users. */
export function requireStaff(ds: DataSource) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const user = await userFromRequest(ds, req);
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

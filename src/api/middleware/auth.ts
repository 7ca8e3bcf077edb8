import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import type { DataSource } from 'typeorm';
import { tokenType, verifyAccessToken } from '../../domain/accounts/tokens.ts';
import { activeUser } from '../../domain/accounts/users.ts';
import { forbidden, unauthorized } from '../../domain/errors.ts';
import type { User } from '../../entities/User.ts';
import { resolveAuthToken, type ResolvedAuthToken } from '../../domain/authTokens.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: User;
      /** Set by requireAuthToken: the tool token the request came with. */
      authToken?: ResolvedAuthToken;
    }
  }
}

/** `Bearer <jwt>`, or `JWT <jwt>` as django-rest-framework-jwt clients (seed 5) send it. */
export function bearerToken(header: string | undefined): string | null {
  const m = header ? /^(?:Bearer|JWT)\s+(\S+)\s*$/i.exec(header) : null;
  return m ? m[1] : null;
}

/** The user behind a request's access token: 401 without one, 403 for a machine token. */
export async function userFromRequest(ds: DataSource, req: Pick<IncomingMessage, 'headers'>): Promise<User> {
  const token = bearerToken(req.headers.authorization);
  if (!token) throw unauthorized('Authentication required', 'authentication_required', 'Valid JWT token must be provided');
  let claims;
  try {
    claims = await verifyAccessToken(token);
  } catch (err) {
    // A valid machine token is a real credential, only not for this: 403, not 401.
    if ((await tokenType(token)) === 'machine') throw forbidden('A machine token can only upload dumps', 'machine_token_not_allowed');
    throw err;
  }
  const user = await activeUser(ds, claims.userId);
  if (!user) throw unauthorized('User is inactive or deleted', 'user_inactive');
  return user;
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

// ---- auth tokens (sentry-cli and other tools): a credential of its own kind ----------

/**
 * Requires `Authorization: Bearer flt_…` — a user's auth token (src/domain/authTokens.ts),
 * not a JWT and not an API key — for an active user; sets req.user and req.authToken.
 * What the token may touch is checked per project with authorizeTokenProject.
 */
export function requireAuthToken(ds: DataSource) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const secret = bearerToken(req.headers.authorization);
    if (!secret) throw unauthorized('Send an auth token: Authorization: Bearer flt_…', 'authentication_required');
    const token = await resolveAuthToken(ds, secret);
    if (!token) throw unauthorized('Invalid or revoked auth token', 'invalid_token');
    const user = await activeUser(ds, token.userId);
    if (!user) throw unauthorized('User is inactive or deleted', 'user_inactive');
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

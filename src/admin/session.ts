import RedisStore from 'connect-redis';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type session from 'express-session';
import type { RedisClient } from '../queues/connection.ts';
import { config } from '../config.ts';
import type { Access, LoadedRoles } from '../domain/access/index.ts';

/** What AdminJS knows as `currentAdmin` (it is also sent to the browser: nothing secret here). */
export interface AdminUser extends LoadedRoles {
  id: number;
  email: string;
  title: string;
}

declare module 'express-session' {
  interface SessionData {
    adminUser?: AdminUser;
    /**
     * The user's token_version at login: a new password or email, or a deactivation (even
     * one undone since), bumps it and ends the session. Server-side only.
     */
    tokenVersion?: number;
    /** A secret to show once on the next page (a new API key). Server-side until shown. */
    flash?: { resource: string; id: string; secret: string };
  }
}

export const LOGIN_PATH = '/admin/login';
export const COOKIE_NAME = 'faultline_admin';

/**
 * Sessions live in Redis (shared by every web process, survive restarts). The cookie is
 * HttpOnly, SameSite=Lax, scoped to /admin, and Secure whenever the request came over
 * HTTPS — directly or through a trusted proxy (`TRUST_PROXY`). Idle sessions expire.
 * The same options (and store) go to @adminjs/express, so it never makes a MemoryStore.
 */
export function sessionOptions(redis: RedisClient): session.SessionOptions {
  return {
    name: COOKIE_NAME,
    secret: config.admin.sessionSecret,
    store: new RedisStore({ client: redis, prefix: `${config.queuePrefix}:admin-sess:`, ttl: config.admin.sessionIdleSeconds }),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', path: '/admin', maxAge: config.admin.sessionIdleSeconds * 1000 },
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function originOf(value: string | undefined): string | null {
  if (!value) return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/**
 * CSRF defence for every state-changing request (login included), besides SameSite
 * cookies. Browsers say where a request comes from in Sec-Fetch-Site (pages cannot set
 * it): same-origin passes, other sites are refused. Without it (older browsers, other
 * clients), the Origin — or failing that the Referer — must be this server's own origin
 * or PUBLIC_URL's. AdminJS's API is refused to other sites even for GETs: some of its
 * actions run on GET.
 */
export function sameOriginOnly(): RequestHandler {
  const publicOrigin = originOf(config.http.publicUrl);
  return (req: Request, res: Response, next: NextFunction) => {
    const site = req.get('sec-fetch-site');
    const foreign = site === 'cross-site' || site === 'same-site';
    if (SAFE_METHODS.has(req.method) && !(foreign && req.path.startsWith('/api/'))) return next();
    if (!foreign) {
      if (site === 'same-origin') return next();
      const origin = originOf(req.get('origin')) ?? originOf(req.get('referer'));
      if (origin && (origin === `${req.protocol}://${req.get('host')}` || origin === publicOrigin)) return next();
    }
    res.status(403).json({ error: 'Cross-site request refused', code: 'csrf_refused', details: null });
  };
}

interface UserRow {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  is_staff: boolean;
  is_active: boolean;
  token_version: number;
}

/** The admin's identity as of now (null: deleted or deactivated), with their roles from the access module and their token_version. */
export async function loadAdminUser(access: Access, id: number): Promise<{ user: AdminUser; tokenVersion: number } | null> {
  const [rows, roles]: [UserRow[], AdminUser['roles']] = await Promise.all([
    access.ds.query(`SELECT id, email, first_name, last_name, is_staff, is_active, token_version FROM users WHERE id = $1`, [id]),
    access.rolesOf(id),
  ]);
  const u = rows[0];
  if (!u || !u.is_active) return null;
  const title = [u.first_name, u.last_name].filter(Boolean).join(' ');
  return { user: { id: u.id, email: u.email, title: title || u.email, isStaff: u.is_staff, roles }, tokenVersion: u.token_version };
}

/**
 * Re-reads the signed-in user on every request: a deactivated or deleted user, or one
 * whose sessions ended since login (token_version: password, email, deactivation), is
 * signed out at once; a role or staff change applies at once.
 */
export function refreshAdminUser(access: Access): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const current = req.session?.adminUser;
    if (!current) return next();
    loadAdminUser(access, current.id).then((fresh) => {
      if (!fresh || fresh.tokenVersion !== req.session.tokenVersion) {
        req.session.destroy(() => res.redirect(LOGIN_PATH));
        return;
      }
      req.session.adminUser = fresh.user;
      next();
    }, next);
  };
}

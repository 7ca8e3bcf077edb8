import type { Request } from 'express';
import type { AuthRateLimiter } from '../domain/accounts/rateLimit.ts';
import { authenticate, normalizeEmail } from '../domain/accounts/users.ts';
import { AppError } from '../domain/errors.ts';
import { mayFrom, scopeFrom, type Access, type ProjectAction, type Scope } from '../domain/access/index.ts';
import { record } from '../domain/audit/index.ts';
import { loadAdminUser, type AdminUser } from './session.ts';

const client = (req: Request | undefined) => ({ ip: req?.ip ?? null, userAgent: req?.get('user-agent') ?? null });

/**
 * The admin login: the same accounts, argon2 check and Redis-backed rate limits as
 * POST /api/auth/login/ (attempts per IP, failed passwords per account and IP, a growing
 * delay per account). A wrong password answers null (AdminJS shows "invalid
 * credentials"); a rate limit throws, and AdminJS shows its message.
 */
export function adminAuthenticate(access: Access, limiter: AuthRateLimiter) {
  return async (email: string | undefined, password: string | undefined, ctx?: { req: Request }): Promise<AdminUser | null> => {
    const req = ctx?.req;
    const ip = req?.ip ?? 'unknown';
    await limiter.hitIp(ip);
    const address = normalizeEmail(String(email ?? ''));
    let userId: number;
    try {
      userId = (await limiter.guard(address, ip, () => authenticate(access.ds, address, String(password ?? '')))).id;
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 401) throw err;
      const known: Array<{ id: number }> = address ? await access.ds.query(`SELECT id FROM users WHERE email = $1`, [address]) : [];
      await record(
        access.ds,
        { type: 'user', id: known[0]?.id ?? null, label: address || '(no email)', ...client(req) },
        { action: 'auth.login_failed', targetType: 'session', targetId: 'admin' },
      );
      return null;
    }
    const loaded = await loadAdminUser(access, userId);
    if (!loaded || !req) return null;
    // A fresh session id at login: a session id planted before login is worth nothing after it.
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    req.session.tokenVersion = loaded.tokenVersion;
    await record(
      access.ds,
      { type: 'user', id: userId, label: loaded.user.email, ...client(req) },
      { action: 'auth.login', targetType: 'session', targetId: 'admin' },
    );
    return loaded.user;
  };
}

/*
 * AdminJS's isAccessible checks are synchronous: they read the roles the access module
 * loaded into the session (refreshed on every request), with the module's own rules.
 */

/** May the admin do `action` in this project? */
export const mayIn = (admin: AdminUser | undefined, projectId: unknown, action: ProjectAction): boolean =>
  mayFrom(admin, projectId, action);

/** The projects where the admin may do `action` (for list queries). */
export const scopeOf = (admin: AdminUser | undefined, action: ProjectAction = 'view'): Scope => scopeFrom(admin, action);

/** May the admin do `action` in at least one project (to show "Create" buttons)? */
export const mayAnywhere = (admin: AdminUser | undefined, action: ProjectAction): boolean => {
  const scope = scopeFrom(admin, action);
  return scope.all || scope.projectIds.length > 0;
};

import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import type { AuthRateLimiter } from '../domain/accounts/rateLimit.ts';
import { authenticate, normalizeEmail } from '../domain/accounts/users.ts';
import { AppError } from '../domain/errors.ts';
import { can, type ProjectAction, type ProjectRole } from '../domain/projects/access.ts';
import { loadAdminUser, type AdminUser } from './session.ts';

/**
 * The admin login: the same accounts, argon2 check and Redis-backed rate limits as
 * POST /api/auth/login/ (attempts per IP, failed passwords per account and IP, a growing
 * delay per account). A wrong password answers null (AdminJS shows "invalid
 * credentials"); a rate limit throws, and AdminJS shows its message.
 */
export function adminAuthenticate(ds: DataSource, limiter: AuthRateLimiter) {
  return async (email: string | undefined, password: string | undefined, ctx?: { req: Request }): Promise<AdminUser | null> => {
    const req = ctx?.req;
    const ip = req?.ip ?? 'unknown';
    await limiter.hitIp(ip);
    const address = normalizeEmail(String(email ?? ''));
    let userId: number;
    try {
      userId = (await limiter.guard(address, ip, () => authenticate(ds, address, String(password ?? '')))).id;
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 401) throw err;
      return null;
    }
    const loaded = await loadAdminUser(ds, userId);
    if (!loaded || !req) return null;
    // A fresh session id at login: a session id planted before login is worth nothing after it.
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    req.session.tokenVersion = loaded.tokenVersion;
    return loaded.user;
  };
}

/**
 * The admin's role in a project, as src/domain/projects/access.ts roleIn answers it:
 * their own role first, staff elsewhere, else none. Synchronous, because AdminJS's
 * isAccessible is (the roles are refreshed into the session on every request).
 */
export function roleOf(admin: AdminUser | undefined, projectId: unknown): ProjectRole | null {
  if (!admin) return null;
  const role = admin.roles[String(projectId)];
  if (role) return role;
  return admin.isStaff ? 'staff' : null;
}

export const mayIn = (admin: AdminUser | undefined, projectId: unknown, action: ProjectAction): boolean => {
  const role = roleOf(admin, projectId);
  return role !== null && can(role, action);
};

/** May the admin do `action` in at least one project (to show "Create" buttons)? */
export const mayAnywhere = (admin: AdminUser | undefined, action: ProjectAction): boolean =>
  Boolean(admin && (admin.isStaff || Object.values(admin.roles).some((r) => can(r, action))));

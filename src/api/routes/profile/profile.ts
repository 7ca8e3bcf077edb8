import { Router, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import type { AuthRateLimiter } from '../../../domain/accounts/rateLimit.ts';
import { checkCurrentPassword, needsCurrentPassword, serializeUserDetail, updateUser } from '../../../domain/accounts/users.ts';
import { userStats } from '../../../domain/stats/userStats.ts';
import type { Access } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { ProfilePatch } from './schema.ts';

/** DataIdea's /api/user/…, mounted at /api/user. */
export function profileRoutes(ds: DataSource, access: Access, limiter: AuthRateLimiter): Router {
  const r = Router();
  r.use(requireUser(access));

  r.get('/profile', (req, res) => {
    res.json(serializeUserDetail(currentUser(req)));
  });

  // DataIdea's UpdateAPIView: PUT and PATCH both change the fields sent.
  const update = async (req: Request, res: Response) => {
    const me = currentUser(req);
    const body = ProfilePatch.parse(req.body ?? {});
    // A stolen access token must not be enough to take the account over: a new password or
    // login email needs the current password, under the login's limits (no guessing it here).
    if (needsCurrentPassword(me, body)) {
      const check = () => checkCurrentPassword(ds, me.id, body.current_password);
      // Only a password given counts as a guess; a missing one is a plain 400.
      await (body.current_password === undefined ? check() : limiter.guard(me.email, req.ip ?? 'unknown', check));
    }
    const user = await updateUser(ds, me.id, {
      email: body.email,
      firstName: body.first_name,
      lastName: body.last_name,
      password: body.password,
    });
    res.json(serializeUserDetail(user));
  };
  r.put('/profile', update);
  r.patch('/profile', update);

  r.get('/stats', async (req, res) => {
    res.json(await userStats(ds, access, currentUser(req)));
  });

  return r;
}

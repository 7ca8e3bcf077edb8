import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Access } from '../../../domain/access/index.ts';
import type { AuthRateLimiter } from '../../../domain/accounts/rateLimit.ts';
import { endSession, rotate, startSession } from '../../../domain/accounts/sessions.ts';
import { authenticate, normalizeEmail, registerUser, serializeUser } from '../../../domain/accounts/users.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { ClientTokenBody, LoginBody, LogoutBody, RefreshBody, RegisterBody } from './schema.ts';

export interface AuthDeps {
  ds: DataSource;
  access: Access;
  limiter: AuthRateLimiter;
}

/** Mounted at /api/auth and, for central de erros' clients, at /auth. */
export function authRoutes({ ds, access, limiter }: AuthDeps): Router {
  const r = Router();

  r.post('/register', async (req, res) => {
    await limiter.hitIp(req.ip ?? 'unknown');
    const body = RegisterBody.parse(req.body);
    const { user, project, secret } = await registerUser(ds, {
      email: body.email,
      password: body.password,
      firstName: body.first_name,
      lastName: body.last_name,
    });
    res.status(201).json({ ...serializeUser(user), project: { id: project.id, name: project.name, slug: project.slug, api_key: secret } });
  });

  r.post('/login', async (req, res) => {
    const ip = req.ip ?? 'unknown';
    await limiter.hitIp(ip);
    const body = LoginBody.parse(req.body);
    const email = normalizeEmail(body.email);
    const user = await limiter.guard(email, ip, () => authenticate(ds, email, body.password));
    const session = await startSession(ds, user);
    res.json({ ...session, token: session.access, user: serializeUser(user) });
  });

  // Rotation: the answer carries a new refresh token; the one presented is spent.
  r.post('/refresh', async (req, res) => {
    const { refresh } = RefreshBody.parse(req.body);
    res.json(await rotate(ds, refresh));
  });

  r.post('/logout', async (req, res) => {
    const { refresh } = LogoutBody.parse(req.body);
    await endSession(ds, refresh);
    res.status(204).end();
  });

  r.get('/user', requireUser(access), (req, res) => {
    res.json(serializeUser(currentUser(req)));
  });

  // The crash store's machine clients (the C++ uploader).
  r.post('/client-token', async (req, res) => {
    await limiter.hitIp(req.ip ?? 'unknown');
    const { client_secret } = ClientTokenBody.parse(req.body);
    res.json({ access: await access.machineToken(client_secret) });
  });

  return r;
}

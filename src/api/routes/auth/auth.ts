import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { issueTokenPair, signToken, verifyToken } from '../../../domain/accounts/tokens.ts';
import { activeUser, authenticate, registerUser, serializeUser } from '../../../domain/accounts/users.ts';
import { unauthorized } from '../../../domain/errors.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { LoginBody, RefreshBody, RegisterBody } from './schema.ts';

/** Mounted at /api/auth and, for seed 5's clients, at /auth. */
export function authRoutes(ds: DataSource): Router {
  const r = Router();

  r.post('/register', async (req, res) => {
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
    const body = LoginBody.parse(req.body);
    const user = await authenticate(ds, body.email, body.password);
    res.json({ ...(await issueTokenPair(user.id)), user: serializeUser(user) });
  });

  r.post('/refresh', async (req, res) => {
    const { refresh } = RefreshBody.parse(req.body);
    const claims = await verifyToken(refresh, 'refresh');
    if (!(await activeUser(ds, claims.userId))) throw unauthorized('User is inactive or deleted', 'user_inactive');
    res.json({ access: await signToken(claims.userId, 'access') });
  });

  r.get('/user', requireUser(ds), (req, res) => {
    res.json(serializeUser(currentUser(req)));
  });

  return r;
}

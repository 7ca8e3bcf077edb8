import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { createAuthToken, listAuthTokens, revokeAuthToken, serializeAuthToken, type Access } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { AuthTokenIdParam, CreateAuthTokenBody } from './schema.ts';

/** /api/auth-tokens/ — a user's tokens for tools (sentry-cli). */
export function authTokenRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.use(requireUser(access));
  r.get('/', async (req, res) => {
    res.json({ results: (await listAuthTokens(ds, currentUser(req).id)).map(serializeAuthToken) });
  });
  r.post('/', async (req, res) => {
    const body = CreateAuthTokenBody.parse(req.body);
    const { token, secret } = await createAuthToken(access, currentUser(req), body);
    res.status(201).json({ ...serializeAuthToken(token), token: secret });
  });
  r.delete('/:id', async (req, res) => {
    const { id } = AuthTokenIdParam.parse(req.params);
    await revokeAuthToken(ds, currentUser(req).id, id);
    res.status(204).end();
  });
  return r;
}

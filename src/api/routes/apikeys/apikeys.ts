import { Router, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import type { ApiKeyResolver } from '../../../domain/apiKeys.ts';
import { conflict } from '../../../domain/errors.ts';
import { personalProjectId } from '../../../domain/projects/access.ts';
import { createKey, keyFor, listKeys, revokeKey, serializeKey, updateKey } from '../../../domain/projects/keys.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { CreateKeyBody, KeyIdParam, KeyListQuery, UpdateKeyBody } from './schema.ts';

/** Seed 3's /api/apikeys/, on projects. */
export function apiKeyRoutes(ds: DataSource, keys: ApiKeyResolver): Router {
  const r = Router();
  r.use(requireUser(ds));

  r.get('/', async (req, res) => {
    const { project } = KeyListQuery.parse(req.query);
    const results = (await listKeys(ds, currentUser(req), project)).map(serializeKey);
    res.json({ count: results.length, next: null, previous: null, results });
  });

  r.post('/', async (req, res) => {
    const actor = currentUser(req);
    const body = CreateKeyBody.parse(req.body);
    const projectId = body.project ?? (await personalProjectId(ds, actor.id));
    const { key, secret } = await createKey(ds, actor, projectId, { name: body.name, scopes: body.scopes });
    res.status(201).json({ ...serializeKey(key), key: secret });
  });

  r.get('/:id', async (req, res) => {
    const { id } = KeyIdParam.parse(req.params);
    res.json(serializeKey(await keyFor(ds, currentUser(req), id)));
  });

  // Seed 3's ModelViewSet: PUT and PATCH both change what is sent (name, scopes, is_active).
  const update = async (req: Request, res: Response) => {
    const { id } = KeyIdParam.parse(req.params);
    const key = await keyFor(ds, currentUser(req), id);
    const { is_active: isActive, ...changes } = UpdateKeyBody.parse(req.body ?? {});
    if (isActive === true && key.revokedAt) throw conflict('A revoked key cannot be reactivated: create a new one', 'key_revoked');
    let updated = await updateKey(ds, key, changes);
    if (isActive === false && !updated.revokedAt) {
      await revokeKey(ds, updated);
      updated = await keyFor(ds, currentUser(req), id);
    }
    keys.invalidate(); // scopes or revocation may have changed
    res.json(serializeKey(updated));
  };
  r.put('/:id', update);
  r.patch('/:id', update);

  r.delete('/:id', async (req, res) => {
    const { id } = KeyIdParam.parse(req.params);
    await revokeKey(ds, await keyFor(ds, currentUser(req), id));
    keys.invalidate(); // at once here; other web processes within API_KEY_CACHE_TTL_MS
    res.status(204).end();
  });

  return r;
}

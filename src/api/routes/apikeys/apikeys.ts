import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { ApiKeyResolver } from '../../../domain/apiKeys.ts';
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

  r.patch('/:id', async (req, res) => {
    const { id } = KeyIdParam.parse(req.params);
    const key = await keyFor(ds, currentUser(req), id);
    const updated = await updateKey(ds, key, UpdateKeyBody.parse(req.body));
    keys.invalidate(); // scopes may have changed
    res.json(serializeKey(updated));
  });

  r.delete('/:id', async (req, res) => {
    const { id } = KeyIdParam.parse(req.params);
    await revokeKey(ds, await keyFor(ds, currentUser(req), id));
    keys.invalidate(); // at once here; other web processes within API_KEY_CACHE_TTL_MS
    res.status(204).end();
  });

  return r;
}

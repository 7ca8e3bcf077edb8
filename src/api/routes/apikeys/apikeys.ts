import { Router, type Request, type Response } from 'express';
import type { Access } from '../../../domain/access/index.ts';
import { conflict } from '../../../domain/errors.ts';
import { createKey, keyFor, listKeys, revokeKey, serializeKey, updateKey } from '../../../domain/projects/keys.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { CreateKeyBody, KeyIdParam, KeyListQuery, UpdateKeyBody } from './schema.ts';

/** DataIdea's /api/apikeys/, on projects. */
export function apiKeyRoutes(access: Access): Router {
  const r = Router();
  r.use(requireUser(access));

  r.get('/', async (req, res) => {
    const { project } = KeyListQuery.parse(req.query);
    const results = (await listKeys(access, currentUser(req), project)).map(serializeKey);
    res.json({ count: results.length, next: null, previous: null, results });
  });

  r.post('/', async (req, res) => {
    const actor = currentUser(req);
    const body = CreateKeyBody.parse(req.body);
    const projectId = body.project ?? (await access.personalProject(actor.id));
    const { key, secret } = await createKey(access, actor, projectId, { name: body.name, scopes: body.scopes });
    res.status(201).json({ ...serializeKey(key), key: secret });
  });

  r.get('/:id', async (req, res) => {
    const { id } = KeyIdParam.parse(req.params);
    res.json(serializeKey(await keyFor(access, currentUser(req), id)));
  });

  // DataIdea's ModelViewSet: PUT and PATCH both change what is sent (name, scopes, is_active).
  const update = async (req: Request, res: Response) => {
    const { id } = KeyIdParam.parse(req.params);
    const key = await keyFor(access, currentUser(req), id);
    const { is_active: isActive, ...changes } = UpdateKeyBody.parse(req.body ?? {});
    if (isActive === true && key.revokedAt) throw conflict('A revoked key cannot be reactivated: create a new one', 'key_revoked');
    let updated = await updateKey(access, key, changes);
    if (isActive === false && !updated.revokedAt) {
      await revokeKey(access, updated);
      updated = await keyFor(access, currentUser(req), id);
    }
    res.json(serializeKey(updated));
  };
  r.put('/:id', update);
  r.patch('/:id', update);

  r.delete('/:id', async (req, res) => {
    const { id } = KeyIdParam.parse(req.params);
    await revokeKey(access, await keyFor(access, currentUser(req), id));
    res.status(204).end();
  });

  return r;
}

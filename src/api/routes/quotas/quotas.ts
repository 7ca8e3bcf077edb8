import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Access } from '../../../domain/access/index.ts';
import { badRequest } from '../../../domain/errors.ts';
import { EMPTY, loadOverrides, saveOverrides, type Quotas } from '../../../domain/quotas/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { ProjectIdParam } from '../projects/schema.ts';
import { QuotasBody } from './schema.ts';

async function quotasOf(ds: DataSource, quotas: Quotas, projectId: number) {
  const own = await loadOverrides(ds, projectId);
  const { project } = await quotas.limits(projectId);
  const keys: Array<{ id: number; name: string; prefix: string }> = await ds.query(
    `SELECT id, name, prefix FROM api_keys WHERE project_id = $1 AND revoked_at IS NULL ORDER BY id`,
    [projectId],
  );
  return {
    defaults: quotas.defaults,
    spike_protection: quotas.spike,
    project: own.project,
    effective: project,
    keys: keys.map((k) => ({ ...k, overrides: own.keys.get(k.id) ?? EMPTY })),
  };
}

/** /api/projects/{id}/quotas/ — mounted under /api/projects. */
export function quotaRoutes(ds: DataSource, access: Access, quotas: Quotas): Router {
  const r = Router();
  r.get('/:id/quotas', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    res.json(await quotasOf(ds, quotas, id));
  });

  r.put('/:id/quotas', requireUser(access), async (req, res) => {
    const { id } = ProjectIdParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'manage_quotas');
    const body = QuotasBody.parse(req.body);
    const keyIds = Object.keys(body.keys ?? {}).map(Number);
    if (keyIds.length) {
      // Every key must be this project's before anything is written.
      const found: Array<{ id: number }> = await ds.query(`SELECT id FROM api_keys WHERE project_id = $1 AND id = ANY($2::int[])`, [
        id,
        keyIds,
      ]);
      const unknown = keyIds.filter((k) => !found.some((f) => f.id === k));
      if (unknown.length) throw badRequest('Not keys of this project', { keys: unknown.map(String) }, 'unknown_key');
    }
    // Each scope sent is replaced: a field left out goes back to inheriting.
    if (body.project) await saveOverrides(ds, id, null, { ...EMPTY, ...body.project });
    for (const [keyId, limits] of Object.entries(body.keys ?? {})) await saveOverrides(ds, id, Number(keyId), { ...EMPTY, ...limits });
    quotas.invalidate(id);
    res.json(await quotasOf(ds, quotas, id));
  });
  return r;
}

import { Router } from 'express';
import type { DataSource } from 'typeorm';
import {
  createPreference,
  deletePreference,
  getPreference,
  listPreferences,
  serializePreference,
  updatePreference,
} from '../../../domain/logs/preferences.ts';
import type { Access } from '../../../domain/access/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks, pageRequest, PageQuery } from '../../pagination.ts';
import { PreferenceBody, PreferenceIdParam, PreferencePatchBody } from './schema.ts';

/** `/api/user-filter-preferences/` (the logs dashboard): each user's own saved filters; anyone else's id is 404. */
export function filterPreferenceRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.use(requireUser(access));

  r.get('/', async (req, res) => {
    // A user has a handful of saved filters: page numbers only, no cursor.
    const page = pageRequest(PageQuery.omit({ cursor: true }).parse(req.query));
    const offset = page.mode === 'page' ? (page.page - 1) * page.pageSize : 0;
    const { rows, count } = await listPreferences(ds, currentUser(req).id, { offset, limit: page.pageSize });
    const hasMore = offset + rows.length < count;
    res.json({ count, ...pageLinks(req, page, { hasMore, nextCursor: null }), results: rows.map(serializePreference) });
  });

  r.post('/', async (req, res) => {
    const body = PreferenceBody.parse(req.body);
    res.status(201).json(serializePreference(await createPreference(ds, currentUser(req).id, body)));
  });

  r.get('/:id', async (req, res) => {
    const { id } = PreferenceIdParam.parse(req.params);
    res.json(serializePreference(await getPreference(ds, currentUser(req).id, id)));
  });

  r.put('/:id', async (req, res) => {
    const { id } = PreferenceIdParam.parse(req.params);
    const body = PreferenceBody.parse(req.body);
    // PUT replaces: an omitted is_default means "not the default".
    res.json(serializePreference(await updatePreference(ds, currentUser(req).id, id, { ...body, is_default: body.is_default ?? false })));
  });

  r.patch('/:id', async (req, res) => {
    const { id } = PreferenceIdParam.parse(req.params);
    res.json(serializePreference(await updatePreference(ds, currentUser(req).id, id, PreferencePatchBody.parse(req.body))));
  });

  r.delete('/:id', async (req, res) => {
    const { id } = PreferenceIdParam.parse(req.params);
    await deletePreference(ds, currentUser(req).id, id);
    res.status(204).end();
  });

  return r;
}

import express, { Router, type Request, type Response } from 'express';
import { config } from '../../../config.ts';
import { deleteDump, replaceDumpFile, updateDumpLabel } from '../../../domain/dumps/manage.ts';
import { decodeDumpCursor, findDump, listDumps, serializeDump, type DumpPage, type DumpRow } from '../../../domain/dumps/query.ts';
import { badRequest, notFound } from '../../../domain/errors.ts';
import { parseDateParam } from '../../../domain/logs/filters.ts';
import { DEFAULT_PAGE_SIZE, type PageRequest } from '../../../domain/pagination.ts';
import type { ProjectAction } from '../../../domain/access/index.ts';
import { dumpStores } from '../../../storage/index.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageLinks } from '../../pagination.ts';
import { sendDump } from '../../http/dumpDownload.ts';
import { isMultipart } from './multipart.ts';
import { DumpByLabelQuery, DumpIdParam, DumpListQuery, LabelBody, LabelParam, UploadFields } from './schema.ts';
import { receiveDumpForm, type UploadDeps } from './upload.ts';
import { expressHandler, type IngestRoute } from '../../ingest/runner.ts';
import { guardJsonBody } from '../../middleware/text.ts';

export type DumpRouteDeps = Pick<UploadDeps, 'ds' | 'access' | 'sink'> &
  Partial<Pick<UploadDeps, 'stores' | 'maxBytes' | 'disk'>> & {
    /** POST /api/dumps/: the ingest table's route (its header phase also answers Expect: 100-continue). */
    upload: IngestRoute;
  };

/**
 * The crash store's /api/dumps/. Mounted before the JSON body parser: uploads are multipart
 * streams this router reads itself. Upload takes machine tokens, API keys, user
 * tokens (or nothing, where a project allows it); everything else is for signed-in
 * users — machine tokens get 403 there, strangers 404, viewers 403 on changes.
 */
export function dumpRoutes(input: DumpRouteDeps): Router {
  const deps: UploadDeps = { stores: dumpStores(), maxBytes: config.dumps.maxBytes, ...input };
  const { ds, stores, access } = deps;
  const r = Router();
  // PATCH {"label": …} as JSON or a form; multipart bodies pass through untouched.
  const smallBody = [express.json({ limit: '64kb' }), express.urlencoded({ extended: false, limit: '64kb' }), guardJsonBody];

  r.post('/', expressHandler(input.upload));
  r.use(requireUser(access));

  /** The dump, if the caller may see its project (404 otherwise, existence unrevealed) and do `action` there (403). */
  async function visibleDump(req: Request, action: ProjectAction): Promise<DumpRow> {
    const { id } = DumpIdParam.parse(req.params);
    return access.guard(currentUser(req), await findDump(ds, id), (d) => d.project_id, action, 'Dump');
  }

  async function list(req: Request, res: Response, q: ReturnType<typeof DumpByLabelQuery.parse>, label: string | undefined) {
    const scope = await access.scope(currentUser(req), q.project);
    const from = parseDateParam(q.date_from, 'date_from');
    const to = parseDateParam(q.date_to, 'date_to');
    const pageSize = q.page_size ?? DEFAULT_PAGE_SIZE;
    const page: DumpPage =
      q.cursor !== undefined
        ? { mode: 'cursor', cursor: q.cursor ? decodeDumpCursor(q.cursor) : null, pageSize }
        : { mode: 'page', page: q.page ?? 1, pageSize };
    const result = await listDumps(
      ds,
      scope,
      { label, archived: q.archived, dateFrom: from?.date, dateTo: to?.date, dateToExclusive: to?.wholeDay },
      page,
    );
    const links: PageRequest = page.mode === 'page' ? page : { mode: 'cursor', cursor: null, pageSize };
    res.json({ count: result.count, ...pageLinks(req, links, result), results: result.rows.map(serializeDump) });
  }

  r.get('/', async (req, res) => {
    const q = DumpListQuery.parse(req.query);
    await list(req, res, q, q.label);
  });

  r.get('/by-label/:label', async (req, res) => {
    const { label } = LabelParam.parse(req.params);
    await list(req, res, DumpByLabelQuery.parse(req.query), label);
  });

  r.get('/:id', async (req, res) => {
    res.json(serializeDump(await visibleDump(req, 'view')));
  });

  r.get('/:id/download', async (req, res) => {
    await sendDump(req, res, stores, await visibleDump(req, 'view'));
  });

  /** PUT: a new file (and the label, if sent). PATCH: the label and/or a new file. */
  const update = (method: 'PUT' | 'PATCH') => async (req: Request, res: Response) => {
    const row = await visibleDump(req, 'edit_data');
    let updated: DumpRow | null;
    if (isMultipart(req)) {
      const form = await receiveDumpForm(req, deps);
      let label: string | null | undefined;
      try {
        label = form.fields.has('label') ? UploadFields.shape.label.parse(form.fields.get('label')) || null : undefined;
      } catch (err) {
        await form.file?.discard();
        throw err;
      }
      if (form.file) {
        updated = await replaceDumpFile(ds, stores, row.id, form.file, {
          originalName: form.file.filename,
          contentType: form.file.mimeType,
          label,
        });
        if (updated) await deps.sink.processDump(updated);
      } else if (method === 'PUT') {
        throw badRequest('PUT replaces the file: send it as a multipart part named "file"', { file: ['required'] }, 'file_required');
      } else {
        if (label === undefined) throw badRequest('Nothing to change: send "label" and/or "file"', null, 'nothing_to_change');
        updated = await updateDumpLabel(ds, row.id, label);
      }
    } else {
      if (method === 'PUT')
        throw badRequest('PUT replaces the file: send multipart/form-data with a "file" part', { file: ['required'] }, 'file_required');
      const body = LabelBody.parse(req.body ?? {});
      if (body.label === undefined) throw badRequest('Nothing to change: send "label" and/or "file"', null, 'nothing_to_change');
      updated = await updateDumpLabel(ds, row.id, body.label || null);
    }
    if (!updated) throw notFound('Dump not found'); // deleted meanwhile
    res.json(serializeDump(updated));
  };
  r.put('/:id', smallBody, update('PUT'));
  r.patch('/:id', smallBody, update('PATCH'));

  r.delete('/:id', async (req, res) => {
    const row = await visibleDump(req, 'edit_data');
    if (!(await deleteDump(ds, stores, row.id))) throw notFound('Dump not found');
    res.status(204).end();
  });

  return r;
}

import type { ActionContext, ResourceWithOptions } from 'adminjs';
import { Router, type Request, type Response } from 'express';
import type { DataSource } from 'typeorm';
import { sendDump } from '../../api/http/dumpDownload.ts';
import { archiveDump } from '../../domain/dumps/archive.ts';
import { isDumpId } from '../../domain/dumps/keys.ts';
import { deleteDump } from '../../domain/dumps/manage.ts';
import { findDump } from '../../domain/dumps/query.ts';
import type { Access } from '../../domain/access/index.ts';
import { CrashDump, UPLOADER_KINDS } from '../../entities/CrashDump.ts';
import { logger } from '../../logger.ts';
import { dumpStores, type DumpStores } from '../../storage/index.ts';
import { mayAnywhere, mayIn } from '../auth.ts';
import { Components } from '../components.ts';
import type { AdminDeps } from '../index.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { actorOf, confirmed, domainCall, inProject, NAV, readOnly, showOnly } from './common.ts';

export const DUMP_DOWNLOAD_PATH = '/admin/dumps/{id}/download';

class CrashDumpResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
    private readonly stores: DumpStores,
  ) {
    super(CrashDump, {
      scope: projectScope('r.projectId'),
      exact: ['label', 'sha256', 'contentType', 'uploaderKind'],
      editable: ['label'],
    });
  }

  /** Bytes (live and archived) and row go together, as DELETE /api/dumps/{id}/ does. */
  override async delete(id: string, context?: ActionContext): Promise<void> {
    const row = await findDump(this.ds, id);
    if (!row) return;
    await domainCall(() => this.access.authorize(actorOf(context), row.project_id, 'edit_data'));
    await deleteDump(this.ds, this.stores, id);
  }
}

/**
 * GET /admin/dumps/:id/download behind the admin session: the same streaming, ranges and
 * headers as GET /api/dumps/{id}/download/, for anyone who may see the dump's project.
 */
export function dumpDownloadRoute(ds: DataSource, stores: DumpStores = dumpStores()): Router {
  const r = Router();
  r.get('/dumps/:id/download', async (req: Request, res: Response) => {
    const admin = req.session?.adminUser as AdminUser | undefined;
    const id = String(req.params.id);
    const row = admin && isDumpId(id) ? await findDump(ds, id) : null;
    if (!row || !mayIn(admin, row.project_id, 'view')) {
      res.status(404).json({ error: 'Dump not found', code: 'not_found', details: null });
      return;
    }
    await sendDump(req, res, stores, row);
  });
  return r;
}

export function crashDumpsResource({ ds, access }: AdminDeps): ResourceWithOptions {
  const stores = dumpStores();
  const mayEdit = inProject('edit_data');
  return {
    resource: new CrashDumpResource(ds, access, stores),
    options: {
      navigation: NAV.data,
      sort: { sortBy: 'time', direction: 'desc' },
      listProperties: ['originalName', 'label', 'size', 'time', 'archived', 'uploaderKind', 'projectId'],
      filterProperties: ['projectId', 'label', 'archived', 'uploaderKind', 'sha256', 'time'],
      showProperties: [
        'id',
        'originalName',
        'label',
        'projectId',
        'size',
        'sha256',
        'contentType',
        'time',
        'updatedAt',
        'archived',
        'archivedAt',
        'uploaderKind',
        'uploaderUserId',
        'uploaderKeyId',
        'info',
        'scrubbed',
      ],
      editProperties: ['label'],
      properties: {
        originalName: { isTitle: true },
        size: { type: 'number', description: 'Bytes as stored' },
        uploaderKind: { availableValues: UPLOADER_KINDS.map((k) => ({ value: k, label: k })) },
        info: { ...showOnly, components: { show: Components.DumpFacts }, description: 'What the dumps worker read from the file' },
        scrubbed: {
          ...showOnly,
          components: { show: Components.JsonBlock },
          description: 'What scrubbing took out before storage: each field path and the rule (default:… or a project rule kind#id)',
        },
        sha256: readOnly,
        contentType: readOnly,
        archivedAt: readOnly,
        updatedAt: readOnly,
      },
      actions: {
        new: { isAccessible: false }, // uploads go to POST /api/dumps/ (multipart, streamed)
        edit: { isAccessible: mayEdit },
        delete: { isAccessible: mayEdit, guard: 'Delete this dump and its bytes for good?' },
        bulkDelete: {
          isAccessible: (c: Parameters<typeof mayEdit>[0]) =>
            c.record ? mayEdit(c) : mayAnywhere(c.currentAdmin as AdminUser, 'edit_data'),
        },
        download: {
          actionType: 'record',
          icon: 'Download',
          component: Components.Confirm,
          custom: { download: DUMP_DOWNLOAD_PATH },
          handler: confirmed('record', async () => 'Nothing to change'),
        },
        archive: {
          actionType: 'record',
          icon: 'Archive',
          component: Components.Confirm,
          custom: { question: 'Archive this dump now? Its bytes are gzip-compressed into the archive; downloads keep working.' },
          isAccessible: (c: Parameters<typeof mayEdit>[0]) => mayEdit(c) && !c.record?.param('archived'),
          handler: confirmed(
            'record',
            async (context) => `Archive: ${await archiveDump({ ds, stores, log: logger }, String(context.record!.id()))}`,
          ),
        },
      },
    },
  };
}

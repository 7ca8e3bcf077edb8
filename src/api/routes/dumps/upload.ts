import type { IncomingMessage } from 'node:http';
import type { DataSource } from 'typeorm';
import type { Access, Caller } from '../../../domain/access/index.ts';
import { recordDump, stageDump, type StagedDump } from '../../../domain/dumps/ingest.ts';
import { serializeDump } from '../../../domain/dumps/query.ts';
import { AppError, badRequest } from '../../../domain/errors.ts';
import type { WorkSink } from '../../../domain/sinks.ts';
import type { DumpStores } from '../../../storage/index.ts';
import { formDecoder, readForm, stopReading, uploadWireLimit, type Form } from './multipart.ts';
import { UploadFields } from './schema.ts';
import { asUploader, requestedProject } from './uploader.ts';
import type { IngestRoute } from '../../ingest/runner.ts';
import { sendJson } from '../../http/send.ts';
import type { DiskGuard, Quotas } from '../../../domain/quotas/index.ts';

export interface UploadDeps {
  ds: DataSource;
  access: Access;
  /** Post-processing of stored dumps (the queues, through the domain's sink). */
  sink: WorkSink;
  stores: DumpStores;
  maxBytes: number;
  /** Uploads refused (507) before a byte is written while the dumps volume is nearly full. */
  disk?: { guard: DiskGuard; dir: string };
  /** dump_bytes per day: checked before the file is stored, charged once it is. */
  quotas?: Quotas;
}

const keyOf = (caller: Caller): number | null => (caller.kind === 'api_key' || caller.kind === 'machine' ? caller.keyId : null);

/**
 * Reads a dump form: the file part streams into storage (staged, not yet recorded)
 * while the text fields are collected. `beforeFile` runs when the file part starts,
 * with the fields sent before it, and may refuse (the file is then never stored).
 * A client that goes away mid-upload leaves nothing behind; a refusal mid-body lets the
 * rest of the body drain so the client can read the answer.
 */
export async function receiveDumpForm(
  req: IncomingMessage,
  deps: Pick<UploadDeps, 'stores' | 'maxBytes' | 'disk'>,
  beforeFile?: (fields: ReadonlyMap<string, string>) => Promise<void>,
): Promise<Form<StagedDump>> {
  const aborted = new AbortController();
  const onClose = () => {
    if (!req.complete) aborted.abort(new AppError(400, 'request_aborted', 'The client closed the connection mid-upload'));
  };
  req.on('close', onClose);
  // Gone already while we checked credentials: 'close' will not come again.
  if (req.destroyed) onClose();
  try {
    return await readForm<StagedDump>(req, {
      fileFields: ['file'],
      maxWireBytes: uploadWireLimit(deps.maxBytes),
      signal: aborted.signal,
      onFile: async (part, fieldsBefore) => {
        await beforeFile?.(fieldsBefore);
        if (deps.disk) await deps.disk.guard.assertRoom(deps.disk.dir);
        return stageDump(deps.stores, part.stream, { maxBytes: deps.maxBytes });
      },
      discard: (staged) => staged.discard(),
    });
  } catch (err) {
    stopReading(req);
    throw err;
  } finally {
    req.off('close', onClose);
  }
}

/**
 * POST /api/dumps/ — crash dump uploads (the crash store). 201 only once the bytes are durable
 * and the row committed. Credentials come from the headers, so a bad one is refused
 * before the body is read (and, with Expect: 100-continue, before it is sent).
 */
export function dumpUploadRoute(deps: UploadDeps): IngestRoute<Caller> {
  return {
    name: '/api/dumps/',
    kind: 'dump',
    methods: ['POST'],
    path: /^\/api\/dumps$/,
    longBody: true,
    via: 'express',
    headers: async (req) => {
      const caller = await deps.access.uploader(req);
      formDecoder(req, 'file', uploadWireLimit(deps.maxBytes))?.destroy();
      if (deps.disk) await deps.disk.guard.assertRoom(deps.disk.dir);
      const requested = requestedProject(req.url, new Map());
      if (requested !== undefined) {
        const projectId = await deps.access.uploadTarget(caller, requested);
        await deps.quotas?.assertAvailable({ projectId, keyId: keyOf(caller) }, 'dump_bytes', Number(req.headers['content-length']) || 1);
      }
      // No project could take it, whatever the form names: the same 401 the upload would get.
      else if (caller.kind === 'anonymous' && !(await deps.access.anonymousUploadsPossible()))
        await deps.access.uploadTarget(caller, undefined);
      // Otherwise the project may still come as a form field before the file.
      return caller;
    },
    body: async (req, res, caller) => {
      const form = await receiveDumpForm(req, deps, async (fieldsBefore) => {
        // Users may name the project after the file; everyone else is checked before a byte is stored.
        const requested = requestedProject(req.url, fieldsBefore);
        if (caller.kind !== 'user' || requested !== undefined) {
          const projectId = await deps.access.uploadTarget(caller, requested);
          await deps.quotas?.assertAvailable({ projectId, keyId: keyOf(caller) }, 'dump_bytes', Number(req.headers['content-length']) || 1);
        }
      });
      const staged = form.file;
      if (!staged) throw badRequest('No file: send the dump as a multipart part named "file"', { file: ['required'] }, 'file_required');
      let row;
      try {
        const fields = UploadFields.parse({ label: form.fields.get('label'), project: form.fields.get('project') || undefined });
        const projectId = await deps.access.uploadTarget(caller, requestedProject(req.url, form.fields));
        row = await recordDump(deps.ds, staged, {
          projectId,
          originalName: staged.filename,
          label: fields.label || null,
          contentType: staged.mimeType,
          uploader: asUploader(caller),
        });
      } catch (err) {
        await staged.discard();
        throw err;
      }
      await deps.quotas?.charge({ projectId: row.project_id, keyId: keyOf(caller) }, 'dump_bytes', staged.size);
      sendJson(res, 201, serializeDump(row), { Location: `/api/dumps/${row.id}/` });
      await deps.sink.processDump(row);
    },
  };
}

/**
 * PUT/PATCH /api/dumps/{id}/ — a new file for a dump, served by the dumps router; in the
 * ingest table for its header phase (signed-in users only), which Expect: 100-continue runs.
 */
export function dumpReplaceRoute(deps: Pick<UploadDeps, 'access'>): IngestRoute<unknown> {
  return {
    name: '/api/dumps/:id',
    kind: 'dump',
    methods: ['PUT', 'PATCH'],
    path: /^\/api\/dumps\/(?<id>[^/]+)$/,
    longBody: true,
    via: 'express',
    headers: (req) => deps.access.user(req),
  };
}

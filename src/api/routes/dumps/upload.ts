import type { Queue } from 'bullmq';
import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { ApiKeyResolver } from '../../../domain/apiKeys.ts';
import { recordDump, stageDump, type StagedDump } from '../../../domain/dumps/ingest.ts';
import { enqueueDumpProcessing } from '../../../domain/dumps/jobs.ts';
import { serializeDump } from '../../../domain/dumps/query.ts';
import { AppError, badRequest } from '../../../domain/errors.ts';
import type { Logger } from '../../../logger.ts';
import type { QueueName } from '../../../queues/contract.ts';
import type { DumpStores } from '../../../storage/index.ts';
import { readForm, stopReading, uploadWireLimit, type Form } from './multipart.ts';
import { UploadFields } from './schema.ts';
import { asUploader, requestedProject, targetProject, uploadCaller } from './uploader.ts';

export interface UploadDeps {
  ds: DataSource;
  keys: ApiKeyResolver;
  queues: Record<QueueName, Queue>;
  stores: DumpStores;
  maxBytes: number;
  log: Logger;
}

/**
 * Reads a dump form: the file part streams into storage (staged, not yet recorded)
 * while the text fields are collected. `beforeFile` runs when the file part starts,
 * with the fields sent before it, and may refuse (the file is then never stored).
 * A client that goes away mid-upload leaves nothing behind; a refusal mid-body lets the
 * rest of the body drain so the client can read the answer.
 */
export async function receiveDumpForm(
  req: Request,
  deps: Pick<UploadDeps, 'stores' | 'maxBytes'>,
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

/** POST /api/dumps/ — seed 4's upload. 201 only once the bytes are durable and the row committed. */
export function uploadHandler(deps: UploadDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    // Credentials come from headers: a bad one is refused before the body is read.
    const caller = await uploadCaller(deps.ds, deps.keys, req);
    const form = await receiveDumpForm(req, deps, async (fieldsBefore) => {
      // Users may name the project after the file; everyone else is checked before a byte is stored.
      const requested = requestedProject(req, fieldsBefore);
      if (caller.kind !== 'user' || requested !== undefined) await targetProject(deps.ds, caller, requested);
    });
    const staged = form.file;
    if (!staged) throw badRequest('No file: send the dump as a multipart part named "file"', { file: ['required'] }, 'file_required');
    let row;
    try {
      const fields = UploadFields.parse({ label: form.fields.get('label'), project: form.fields.get('project') || undefined });
      const projectId = await targetProject(deps.ds, caller, requestedProject(req, form.fields));
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
    res.status(201).location(`/api/dumps/${row.id}/`).json(serializeDump(row));
    await enqueueDumpProcessing(deps.queues, row, deps.log);
  };
}

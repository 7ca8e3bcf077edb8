import { Router, type Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { DataSource } from 'typeorm';
import { listAttachments, openAttachment } from '../../../domain/attachments/attachments.ts';
import type { Access } from '../../../domain/access/index.ts';
import type { BlobStore } from '../../../storage/blobStore.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { dispositionFor } from '../../http/dumpDownload.ts';
import { ProjectEventParam } from '../events/schema.ts';
import { AttachmentParam } from './schema.ts';

/** Streams an attachment as a download; shared with the admin's download route. */
export async function sendAttachment(res: Response, file: Awaited<ReturnType<typeof openAttachment>>): Promise<void> {
  res.set({
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(file.size),
    'Content-Disposition': dispositionFor(file.name.split(/[\\/]/).pop() || 'attachment'),
    ETag: `"${file.sha256}"`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, no-cache',
  });
  await pipeline(file.stream, res);
}

/** /api/projects/{id}/events/{event_id}/attachments/ — mounted under /api/projects. */
export function attachmentRoutes(ds: DataSource, access: Access, store: BlobStore): Router {
  const r = Router();
  r.get('/:id/events/:event_id/attachments', requireUser(access), async (req, res) => {
    const { id, event_id } = ProjectEventParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    res.json({ results: await listAttachments(ds, id, event_id) });
  });
  r.get('/:id/events/:event_id/attachments/:attachment_id', requireUser(access), async (req, res) => {
    const { id, event_id, attachment_id } = AttachmentParam.parse(req.params);
    await access.authorize(currentUser(req), id, 'view');
    await sendAttachment(res, await openAttachment(ds, store, id, event_id, attachment_id));
  });
  return r;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { stageDump, type StagedDump } from '../../../domain/dumps/ingest.ts';
import { AppError, badRequest } from '../../../domain/errors.ts';
import {
  assertMinidump,
  dashedUuid,
  eventFromForm,
  minidumpEvent,
  storeWithDumps,
  type MinidumpDeps,
} from '../../../domain/ingest/formats/sentry/minidump.ts';
import { ingestedItems } from '../../../metrics.ts';
import { bodyDecoder, bodyStream } from '../../http/body.ts';
import { formDecoder, isMultipart, readForm, stopReading, uploadWireLimit } from '../dumps/multipart.ts';
import { corsHeaders } from './respond.ts';
import type { Quotas } from '../../../domain/quotas/index.ts';

export interface MinidumpRouteDeps extends MinidumpDeps {
  maxBytes: number;
  /** Charged once stored: the event and the dump's bytes (checked, not charged, on the headers). */
  quotas?: Quotas;
}

/** The dump part of a Crashpad form (`upload_file_minidump`) or a raw body, staged into storage; fields collected. */
async function receive(
  req: IncomingMessage,
  deps: MinidumpRouteDeps,
): Promise<{ staged: StagedDump | null; fields: Map<string, string>; name: string }> {
  const aborted = new AbortController();
  const onClose = () => {
    if (!req.complete) aborted.abort(new AppError(400, 'request_aborted', 'The client closed the connection mid-upload'));
  };
  req.on('close', onClose);
  try {
    if (isMultipart(req)) {
      const form = await readForm<StagedDump>(req, {
        fileFields: ['upload_file_minidump'],
        maxWireBytes: uploadWireLimit(deps.maxBytes),
        signal: aborted.signal,
        onFile: (part) => stageDump(deps.stores, part.stream, { maxBytes: deps.maxBytes }),
        discard: (staged) => staged.discard(),
      });
      return { staged: form.file, fields: form.fields, name: form.file?.filename || 'upload_file_minidump' };
    }
    // The raw body: wire and decoded bytes are both counted as they stream, and either
    // limit stops it at once. Decoded, it may still be a .gz file itself, which stageDump unwraps.
    const wire = uploadWireLimit(deps.maxBytes);
    const body = bodyStream(req, wire, { compressedLimit: wire });
    return { staged: await stageDump(deps.stores, body, { maxBytes: deps.maxBytes }), fields: new Map(), name: 'minidump.dmp' };
  } catch (err) {
    stopReading(req);
    throw err;
  } finally {
    req.off('close', onClose);
  }
}

/** What the headers decide about a minidump body: multipart or raw, its encoding, its declared size. */
export function minidumpHeaders(req: IncomingMessage, deps: Pick<MinidumpRouteDeps, 'maxBytes'>): void {
  // A raw dump may be gzip'd on the wire or be a .gz itself: refuse only what cannot fit after either.
  const wire = uploadWireLimit(deps.maxBytes);
  (isMultipart(req) ? formDecoder(req, 'upload_file_minidump', wire) : bodyDecoder(req, wire))?.destroy();
}

/**
 * POST /api/{project_id}/minidump/ — Crashpad and Breakpad uploads (multipart with
 * `upload_file_minidump`, or the raw dump as the body). Answers 200 with the event id
 * as a plain-text UUID, as Sentry does. The key was checked on the headers, before any
 * byte is stored.
 */
export async function minidumpBody(
  req: IncomingMessage,
  res: ServerResponse,
  deps: MinidumpRouteDeps,
  key: { id: number },
  projectId: number,
): Promise<void> {
  let staged: StagedDump | null = null;
  try {
    const got = await receive(req, deps);
    staged = got.staged;
    if (!staged)
      throw badRequest('No minidump: send it as the multipart part "upload_file_minidump" or as the body', null, 'file_required');
    assertMinidump(staged);
    const record = await minidumpEvent(deps.stores, staged, eventFromForm(got.fields), projectId, new Date().toISOString());
    await storeWithDumps(deps, [record], [{ staged, originalName: got.name, eventId: record.event_id }], projectId, key.id);
    const size = staged.size;
    staged = null; // recorded: no longer ours to discard
    await deps.quotas?.charge({ projectId, keyId: key.id }, 'error', 1);
    await deps.quotas?.charge({ projectId, keyId: key.id }, 'dump_bytes', size);
    ingestedItems.inc({ kind: 'error' });
    const body = dashedUuid(record.event_id);
    res.writeHead(200, { ...corsHeaders(req), 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  } catch (err) {
    await staged?.discard();
    throw err;
  }
}

import { create as contentDisposition } from 'content-disposition';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { openDumpBytes } from '../../domain/dumps/bytes.ts';
import type { DumpRow } from '../../domain/dumps/query.ts';
import type { ByteRange } from '../../storage/blobStore.ts';
import type { DumpStores } from '../../storage/index.ts';

/**
 * The download name: original_name without any directory part (it was kept as sent,
 * path and all), without the .gz of a file we decompressed on upload; the dump id when
 * nothing usable is left.
 */
export function downloadName(row: Pick<DumpRow, 'id' | 'original_name' | 'info'>): string {
  let name = row.original_name.split(/[\\/]/).pop()?.trim() ?? '';
  if (row.info.uploaded_gzip) name = name.replace(/\.(gz|gzip)$/i, '');
  return name && name !== '.' && name !== '..' ? name : row.id;
}

/** RFC 6266: a plain ASCII `filename` for old clients, and `filename*` (RFC 5987, UTF-8) when the name is not ASCII. */
export function dispositionFor(name: string): string {
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return contentDisposition(name, { type: 'attachment', fallback: ascii });
}

/** If-Range: the range applies only to the representation the client already has. */
function ifRangeHolds(req: Request, etag: string, lastModified: Date): boolean {
  const v = req.get('if-range');
  if (!v) return true;
  if (v.startsWith('"') || v.startsWith('W/')) return v === etag;
  const t = Date.parse(v);
  return Number.isFinite(t) && Math.floor(lastModified.getTime() / 1000) * 1000 <= t;
}

/**
 * Streams the dump with download headers. One Range (bytes) answers 206; several are
 * answered with the whole file (200), which RFC 9110 allows; an unsatisfiable one is
 * 416. The ETag is the sha256, so conditional requests and If-Range work.
 */
export async function sendDump(req: Request, res: Response, stores: DumpStores, row: DumpRow): Promise<void> {
  const size = Number(row.size);
  const etag = `"${row.sha256}"`;
  let range: Required<ByteRange> | undefined;
  if (req.headers.range && ifRangeHolds(req, etag, row.updated_at)) {
    const ranges = req.range(size, { combine: true });
    if (ranges === -1) {
      res.status(416).set({ 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' });
      res.json({ error: 'Range not satisfiable', code: 'range_not_satisfiable', details: { size } });
      return;
    }
    if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) range = ranges[0];
  }
  res.set({
    ETag: etag,
    'Last-Modified': row.updated_at.toUTCString(),
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'private, no-cache',
  });
  if (req.fresh) {
    res.status(304).end();
    return;
  }
  // Opened before any header goes out: a missing file is still a clean JSON 404.
  const body = req.method === 'HEAD' ? null : await openDumpBytes(stores, row, range);
  res.status(range ? 206 : 200).set({
    'Content-Type': 'application/octet-stream', // never the client's type: a dump is not for the browser to render
    'Content-Length': String(range ? range.end - range.start + 1 : size),
    'Content-Disposition': dispositionFor(downloadName(row)),
    'Repr-Digest': `sha-256=:${Buffer.from(row.sha256, 'hex').toString('base64')}:`,
  });
  if (range) res.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
  if (!body) {
    res.end();
    return;
  }
  try {
    await pipeline(body, res);
  } catch (err) {
    // The reader went away: nothing to answer. Anything else after the headers: cut the connection.
    if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' || res.destroyed) return;
    throw err;
  }
}

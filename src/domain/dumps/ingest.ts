import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { DataSource, EntityManager } from 'typeorm';
import type { UploaderKind } from '../../entities/CrashDump.ts';
import type { DumpStores } from '../../storage/index.ts';
import { badRequest } from '../errors.ts';
import { storageFailure } from './bytes.ts';
import { liveKey } from './keys.ts';
import { isMinidump } from './minidump.ts';
import { DUMP_COLUMNS, type DumpRow } from './query.ts';
import { DumpMeter, isGzip, peek } from './streams.ts';

/**
 * The upload pipeline, free of HTTP: any route that receives a dump (the crash store's
 * multipart form, later Sentry/Crashpad's minidump endpoint) streams the file part
 * through stageDump() and then records it with recordDump() once it knows the rest of
 * the form (label, project) and has authorized the caller. Between the two, the bytes
 * are durable but unreferenced; discard() removes them when the request fails.
 */

export interface Uploader {
  kind: UploaderKind;
  userId?: number | null;
  keyId?: number | null;
}

export interface DumpMeta {
  projectId: number;
  /** As the client sent it; shown and used for Content-Disposition, never for a path. */
  originalName: string;
  label: string | null;
  /** The client's Content-Type for the part, if any. */
  contentType?: string | null;
  uploader: Uploader;
}

export interface StagedDump {
  id: string;
  size: number;
  sha256: string;
  /** The client sent the file gzip'd; we stored the decompressed bytes. */
  gzipped: boolean;
  format: 'minidump' | 'opaque';
  discard(): Promise<void>;
}

/**
 * Streams `source` (gunzipping it when it starts with the gzip magic) into live
 * storage under a fresh uuid, hashing and counting on the way and failing with 413
 * past `maxBytes`. Resolves once the bytes are fsync'd and renamed into
 * <DUMPS_DIR>/<c1>/<c2>/<uuid>; on any failure nothing is left behind.
 */
export async function stageDump(stores: DumpStores, source: Readable, opts: { maxBytes: number }): Promise<StagedDump> {
  const id = randomUUID();
  const meter = new DumpMeter(opts.maxBytes);
  const { head, stream } = await peek(source, 2);
  const gzipped = isGzip(head);
  // Errors anywhere upstream destroy `meter` with that error, which fails the put.
  const body = gzipped
    ? pipeline(stream, createGunzip({ chunkSize: 256 * 1024 }), meter, () => undefined)
    : pipeline(stream, meter, () => undefined);
  try {
    await stores.live.put(liveKey(id), body);
  } catch (err) {
    if (String((err as { code?: unknown }).code).startsWith('Z_')) {
      throw badRequest('The file starts like gzip but is not valid gzip data', (err as Error).message, 'invalid_gzip');
    }
    throw storageFailure(err);
  }
  return {
    id,
    size: meter.size,
    sha256: meter.digest(),
    gzipped,
    format: isMinidump(meter.head) ? 'minidump' : 'opaque',
    discard: async () => {
      await stores.live.delete(liveKey(id)).catch(() => undefined);
    },
  };
}

const MIME = /^[\w.+-]+\/[\w.+-]+$/;

/** What we know about a file before the worker has looked at it. */
export function initialFacts(staged: Pick<StagedDump, 'format' | 'gzipped'>, clientType?: string | null) {
  const contentType =
    staged.format === 'minidump'
      ? 'application/x-minidump'
      : clientType && MIME.test(clientType) && !(staged.gzipped && /gzip/i.test(clientType))
        ? clientType.toLowerCase()
        : 'application/octet-stream';
  const info: Record<string, unknown> = { format: staged.format, status: 'pending' };
  if (staged.gzipped) info.uploaded_gzip = true;
  return { contentType, info };
}

/** Keeps names displayable and storable: no control characters (PostgreSQL text cannot hold NUL), bounded length. */
export const cleanName = (name: string | undefined | null): string =>
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  (name ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 1024);

/** Commits the metadata row for staged bytes; on failure the bytes are removed. */
export async function recordDump(db: DataSource | EntityManager, staged: StagedDump, meta: DumpMeta): Promise<DumpRow> {
  const { contentType, info } = initialFacts(staged, meta.contentType);
  try {
    const rows: DumpRow[] = await db.query(
      `INSERT INTO crash_dumps (id, project_id, original_name, label, size, sha256, content_type, "time", updated_at,
                                uploader_kind, uploader_user_id, uploader_key_id, info)
       VALUES ($1, $2, $3, $4, $5, $6, $7, date_trunc('milliseconds', now()), now(), $8, $9, $10, $11)
       RETURNING ${DUMP_COLUMNS}`,
      [
        staged.id,
        meta.projectId,
        cleanName(meta.originalName),
        meta.label,
        staged.size,
        staged.sha256,
        contentType,
        meta.uploader.kind,
        meta.uploader.userId ?? null,
        meta.uploader.keyId ?? null,
        info,
      ],
    );
    return rows[0];
  } catch (err) {
    await staged.discard();
    throw err;
  }
}

/** Both steps, for callers that know the metadata before the bytes arrive. */
export async function ingestDump(
  ds: DataSource,
  stores: DumpStores,
  source: Readable,
  meta: DumpMeta,
  opts: { maxBytes: number },
): Promise<DumpRow> {
  return recordDump(ds, await stageDump(stores, source, opts), meta);
}

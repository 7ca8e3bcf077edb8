/**
 * Artifact bundles, the way `sentry-cli sourcemaps upload` sends them: the bundle (a zip
 * with a manifest.json) is cut into chunks named by their SHA-1, the chunks are uploaded
 * (gzip'd, multipart), then "assemble" names the bundle's SHA-1 and its chunks in order.
 * Assembling joins the chunks, checks the whole against its SHA-1, unpacks the files
 * into the artifacts store and records them — by debug id, and by release + URL — for
 * the symbolicator (./symbolicate.ts). Bytes live in a BlobStore like crash dumps do.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { badRequest } from '../errors.ts';
import type { BlobStore } from '../../storage/blobStore.ts';
import { readZip, ZipError } from './zip.ts';

export const SHA1 = /^[0-9a-f]{40}$/;
const chunkKey = (sha1: string) => `chunks/${sha1.slice(0, 2)}/${sha1}`;
export const fileKey = (id: string) => `files/${id.slice(0, 2)}/${id}`;

async function readAll(store: BlobStore, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await store.get(key)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
export const readBlob = readAll;

/** One uploaded chunk: its name must be the SHA-1 of its (decompressed) bytes. */
export async function storeChunk(store: BlobStore, sha1: string, bytes: Buffer): Promise<void> {
  const name = sha1.toLowerCase();
  if (!SHA1.test(name))
    throw badRequest('A chunk is named by its SHA-1 (40 hex characters)', [{ path: 'file', message: 'bad chunk name' }], 'invalid_chunk');
  const actual = createHash('sha1').update(bytes).digest('hex');
  if (actual !== name)
    throw badRequest(
      `Chunk ${name} does not match its SHA-1 (${actual})`,
      [{ path: 'file', message: 'checksum mismatch' }],
      'invalid_chunk',
    );
  if (await store.stat(chunkKey(name))) return; // already here (re-upload)
  await store.put(chunkKey(name), Readable.from([bytes]));
}

export interface AssembleRequest {
  checksum: string;
  chunks: string[];
  projectIds: number[];
  release?: string | null;
  dist?: string | null;
  userId: number;
}

export interface AssembleResult {
  state: 'ok' | 'not_found' | 'error' | 'created' | 'assembling';
  missingChunks: string[];
  detail: string | null;
}

interface ManifestFile {
  type?: string;
  url?: string;
  headers?: Record<string, string>;
}

const KINDS = new Set(['minified_source', 'source_map', 'source', 'indexed_ram_bundle']);

/** Idempotent: a bundle already assembled for every project answers ok at once (sentry-cli polls this). */
export async function assembleBundle(ds: DataSource, store: BlobStore, req: AssembleRequest, maxBytes: number): Promise<AssembleResult> {
  const checksum = req.checksum.toLowerCase();
  const have: Array<{ project_id: number }> = await ds.query(
    `SELECT project_id FROM artifact_bundles WHERE checksum = $1 AND project_id = ANY($2::int[])`,
    [checksum, req.projectIds],
  );
  const todo = req.projectIds.filter((p) => !have.some((h) => h.project_id === p));
  if (!todo.length) return { state: 'ok', missingChunks: [], detail: null };

  const missing: string[] = [];
  let total = 0;
  for (const c of req.chunks) {
    const info = await store.stat(chunkKey(c.toLowerCase()));
    if (!info) missing.push(c);
    else total += info.size;
  }
  if (missing.length) return { state: 'not_found', missingChunks: missing, detail: null };
  if (total > maxBytes)
    return {
      state: 'error',
      missingChunks: [],
      detail: `bundle is ${total} bytes; the limit is ${maxBytes} (SOURCEMAPS_MAX_BUNDLE_BYTES)`,
    };

  const bundle = Buffer.concat(await Promise.all(req.chunks.map((c) => readAll(store, chunkKey(c.toLowerCase())))));
  if (createHash('sha1').update(bundle).digest('hex') !== checksum)
    return { state: 'error', missingChunks: [], detail: 'the chunks do not add up to the checksum' };

  interface Listed {
    kind: string;
    url: string;
    debugId: string | null;
    sourcemap: string | null;
    read: () => Buffer;
    size: number;
  }
  let files: Listed[];
  let manifest: { files?: Record<string, ManifestFile>; debug_id?: string; release?: string; dist?: string };
  try {
    const entries = new Map(readZip(bundle, { maxEntryBytes: maxBytes * 4 }).map((e) => [e.name, e]));
    const m = entries.get('manifest.json');
    if (!m) throw new ZipError('no manifest.json');
    manifest = JSON.parse(m.read().toString('utf8'));
    files = Object.entries(manifest.files ?? {}).flatMap(([name, f]) => {
      const entry = entries.get(name);
      if (!entry || !f.url || !KINDS.has(f.type ?? '')) return [];
      const headers = Object.fromEntries(Object.entries(f.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      const debugId = headers['debug-id'] ?? headers['debug_id'] ?? null;
      return [
        {
          kind: f.type!,
          url: f.url.slice(0, 4000),
          debugId: debugId && /^[0-9a-f-]{32,36}$/i.test(debugId) ? debugId.toLowerCase() : null,
          sourcemap: headers.sourcemap ?? headers['x-sourcemap'] ?? null,
          read: entry.read,
          size: entry.size,
        },
      ];
    });
    // Unpacked, a bundle may be a few times its packed size (maps compress well), not more: no zip bombs.
    const unpacked = files.reduce((n, f) => n + f.size, 0);
    if (unpacked > maxBytes * 8) throw new ZipError(`unpacks to ${unpacked} bytes, more than 8 × SOURCEMAPS_MAX_BUNDLE_BYTES`);
  } catch (err) {
    if (err instanceof ZipError || err instanceof SyntaxError)
      return { state: 'error', missingChunks: [], detail: `not an artifact bundle: ${err.message}` };
    throw err;
  }

  const release = (req.release ?? manifest.release ?? null)?.slice(0, 250) || null;
  const dist = (req.dist ?? manifest.dist ?? null)?.slice(0, 64) || null;
  // Bytes first (each file once, shared by the projects; one file in memory at a time), rows
  // after: a crash in between leaves unreferenced files, never rows without bytes.
  const stored: Array<Omit<Listed, 'read'> & { key: string }> = [];
  for (const f of files) {
    let bytes: Buffer;
    try {
      bytes = f.read();
    } catch (err) {
      if (err instanceof ZipError || err instanceof RangeError || (err as { code?: string }).code?.startsWith('Z_'))
        return { state: 'error', missingChunks: [], detail: `not an artifact bundle: ${(err as Error).message}` };
      throw err;
    }
    const id = randomUUID();
    await store.put(fileKey(id), Readable.from([bytes]));
    stored.push({ kind: f.kind, url: f.url, debugId: f.debugId, sourcemap: f.sourcemap, size: bytes.length, key: fileKey(id) });
  }
  await ds.transaction(async (em) => {
    for (const projectId of todo) {
      const bundleId = randomUUID();
      const inserted: unknown[] = await em.query(
        `INSERT INTO artifact_bundles (id, project_id, checksum, bundle_id, release, dist, file_count, size, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (project_id, checksum) DO NOTHING RETURNING id`,
        [bundleId, projectId, checksum, manifest.debug_id?.slice(0, 64) ?? null, release, dist, stored.length, bundle.length, req.userId],
      );
      if (!inserted.length || !stored.length) continue; // assembled concurrently by another request
      await em.query(
        `INSERT INTO artifact_files (bundle_id, project_id, kind, url, debug_id, release, dist, sourcemap, blob_key, size)
         SELECT $1, $2, k, u, d::uuid, $3, $4, s, b, z FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[]) AS f(k, u, d, s, b, z)`,
        [
          bundleId,
          projectId,
          release,
          dist,
          stored.map((f) => f.kind),
          stored.map((f) => f.url),
          stored.map((f) => f.debugId),
          stored.map((f) => f.sourcemap),
          stored.map((f) => f.key),
          stored.map((f) => f.size),
        ],
      );
    }
  });
  // The chunks have served their purpose; a later assemble of the same bundle answers ok from the rows.
  for (const c of new Set(req.chunks.map((x) => x.toLowerCase()))) await store.delete(chunkKey(c));
  return { state: 'ok', missingChunks: [], detail: null };
}

/** What a project has uploaded, newest first (the admin and GET /api/projects/{id}/sourcemaps/). */
export async function listBundles(ds: DataSource, projectId: number, limit = 100) {
  const rows: Array<{
    id: string;
    checksum: string;
    bundle_id: string | null;
    release: string | null;
    dist: string | null;
    file_count: number;
    size: string;
    created_at: Date;
  }> = await ds.query(
    `SELECT id, checksum, bundle_id, release, dist, file_count, size, created_at FROM artifact_bundles WHERE project_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
    [projectId, limit],
  );
  return rows.map((r) => ({ ...r, size: Number(r.size), created_at: r.created_at.toISOString() }));
}

import busboy from 'busboy';
import { Router, type Request } from 'express';
import { gunzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { config } from '../../../config.ts';
import { tokenProjects, type Access } from '../../../domain/access/index.ts';
import { AppError, badRequest, payloadTooLarge } from '../../../domain/errors.ts';
import { createSentryRelease, sentryRelease, updateSentryRelease } from '../../../domain/releases/sentryApi.ts';
import { assembleBundle, storeChunk } from '../../../domain/sourcemaps/artifacts.ts';
import { symbolicatorFor } from '../../../domain/sourcemaps/symbolicate.ts';
import type { BlobStore } from '../../../storage/blobStore.ts';
import { currentToken, currentUser, requireAuthToken } from '../../middleware/auth.ts';
import { AssembleBody, NewReleaseBody, OrgParam, ReleaseVersionParam, UpdateReleaseBody } from './schema.ts';

/** What sentry-cli is told: 8 MiB chunks, gzip'd, a few requests at once. */
const CHUNK_SIZE = 8 * 1024 * 1024;
const CHUNKS_PER_REQUEST = 16;
const MAX_REQUEST_SIZE = 32 * 1024 * 1024;

/** Reads a chunk-upload form: every `file` / `file_gzip` part, named by its SHA-1, into memory (bounded). */
function readChunks(req: Request): Promise<Array<{ name: string; bytes: Buffer }>> {
  return new Promise((resolve, reject) => {
    if (!/^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '')) {
      reject(new AppError(415, 'unsupported_media_type', 'Send multipart/form-data with file_gzip parts'));
      return;
    }
    const bb = busboy({ headers: req.headers, limits: { files: CHUNKS_PER_REQUEST * 4, fileSize: CHUNK_SIZE + 1024 * 1024 } });
    const out: Array<{ name: string; bytes: Buffer }> = [];
    let failed: Error | null = null;
    let total = 0;
    bb.on('file', (field, stream, info) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        total += c.length;
        parts.push(c);
      });
      stream.on('limit', () => (failed ??= payloadTooLarge(`A chunk is at most ${CHUNK_SIZE} bytes`)));
      stream.on('end', () => {
        if (field !== 'file' && field !== 'file_gzip') return;
        let bytes = Buffer.concat(parts);
        if (field === 'file_gzip') {
          try {
            bytes = gunzipSync(bytes, { maxOutputLength: CHUNK_SIZE });
          } catch {
            failed ??= badRequest(
              `Chunk ${info.filename} is not gzip (or larger than ${CHUNK_SIZE} bytes)`,
              [{ path: 'file_gzip', message: 'not gzip' }],
              'invalid_chunk',
            );
            return;
          }
        }
        out.push({ name: info.filename ?? '', bytes });
      });
    });
    bb.on('error', (err) => reject(badRequest(`Malformed multipart body: ${(err as Error).message}`, null, 'malformed_multipart')));
    bb.on('close', () => {
      if (total > MAX_REQUEST_SIZE) failed ??= payloadTooLarge(`A request is at most ${MAX_REQUEST_SIZE} bytes`);
      if (failed) reject(failed);
      else resolve(out);
    });
    req.pipe(bb);
  });
}

/**
 * /api/0/… — what `sentry-cli sourcemaps upload` and `sentry-cli releases` call, with a
 * Faultline auth token. Route handlers stay thin: the token's projects are checked by
 * the domain (tokenProjects), bundles are assembled by src/domain/sourcemaps.
 */
export function sentryApiRoutes(ds: DataSource, access: Access, store: BlobStore): Router {
  const r = Router();
  r.use(requireAuthToken(access));
  const projectsOf = (req: Request, names: string[]) => tokenProjects(access, currentToken(req), currentUser(req), names);
  const allProjects = (req: Request) => projectsOf(req, currentToken(req).projectIds.map(String)).catch(() => []);

  r.get('/organizations/:org/chunk-upload', (req, res) => {
    const { org } = OrgParam.parse(req.params);
    const base = config.http.publicUrl ?? `${req.protocol}://${req.get('host')}`;
    res.json({
      url: new URL(`/api/0/organizations/${encodeURIComponent(org)}/chunk-upload/`, base).toString(),
      chunkSize: CHUNK_SIZE,
      chunksPerRequest: CHUNKS_PER_REQUEST,
      maxFileSize: config.artifacts.maxBundleBytes,
      maxRequestSize: MAX_REQUEST_SIZE,
      concurrency: 4,
      hashAlgorithm: 'sha1',
      compression: ['gzip'],
      accept: ['artifact_bundles', 'sources'],
    });
  });

  r.post('/organizations/:org/chunk-upload', async (req, res) => {
    OrgParam.parse(req.params);
    const chunks = await readChunks(req);
    for (const c of chunks) await storeChunk(store, c.name, c.bytes);
    res.json({});
  });

  r.post('/organizations/:org/artifactbundle/assemble', async (req, res) => {
    OrgParam.parse(req.params);
    const b = AssembleBody.parse(req.body);
    const projects = await projectsOf(req, b.projects);
    const result = await assembleBundle(
      ds,
      store,
      {
        checksum: b.checksum,
        chunks: b.chunks,
        projectIds: projects.map((p) => p.id),
        release: b.version,
        dist: b.dist,
        userId: currentUser(req).id,
      },
      config.artifacts.maxBundleBytes,
    );
    // This process's view-time lookups see the new maps at once (other processes within NEGATIVE_TTL_MS).
    if (result.state === 'ok') symbolicatorFor(ds).forgetMisses();
    res.json(result);
  });

  r.post('/organizations/:org/releases', async (req, res) => {
    OrgParam.parse(req.params);
    const b = NewReleaseBody.parse(req.body);
    const projects = await projectsOf(req, b.projects);
    const { created, release } = await createSentryRelease(
      ds,
      projects,
      b.version,
      b.dateReleased ? new Date(b.dateReleased) : null,
      currentUser(req).id,
    );
    // Sentry answers 208 for a release that already existed in these projects.
    res.status(created ? 201 : 208).json(release);
  });

  r.get('/organizations/:org/releases/:version', async (req, res) => {
    const { version } = ReleaseVersionParam.parse(req.params);
    res.json(await sentryRelease(ds, await allProjects(req), version));
  });

  r.put('/organizations/:org/releases/:version', async (req, res) => {
    const { version } = ReleaseVersionParam.parse(req.params);
    const b = UpdateReleaseBody.parse(req.body);
    const projects = b.projects?.length ? await projectsOf(req, b.projects) : await allProjects(req);
    res.json(
      await updateSentryRelease(
        ds,
        projects,
        version,
        b.dateReleased === undefined ? undefined : b.dateReleased === null ? null : new Date(b.dateReleased),
      ),
    );
  });

  return r;
}

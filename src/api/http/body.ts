import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import { AppError, badRequest, payloadTooLarge } from '../../domain/errors.ts';

/**
 * Reads a request body for the lean ingest path: honours Content-Encoding gzip/deflate,
 * and enforces `limit` on the *decoded* size while streaming (so a small gzip bomb is
 * cut off at the limit, never inflated in full).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  let decoder: Gunzip | Inflate | null = null;
  if (encoding === 'gzip' || encoding === 'x-gzip') decoder = createGunzip();
  else if (encoding === 'deflate') decoder = createInflate();
  else if (encoding !== 'identity' && encoding !== '') {
    req.resume();
    return Promise.reject(new AppError(415, 'unsupported_encoding', `Unsupported Content-Encoding "${encoding}"`, { supported: ['gzip', 'deflate', 'identity'] }));
  }

  const declared = Number(req.headers['content-length']);
  if (!decoder && Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const source = decoder ? req.pipe(decoder) : req;
    const fail = (err: AppError) => {
      if (done) return;
      done = true;
      if (decoder) req.unpipe(decoder);
      decoder?.destroy();
      req.resume(); // drain what is left so the connection can be reused
      reject(err);
    };
    source.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) return fail(tooLarge(limit));
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    source.on('error', () => fail(badRequest(`Request body is not valid ${encoding} data`, null, 'invalid_encoding')));
    req.on('aborted', () => fail(badRequest('Request aborted', null, 'request_aborted')));
  });
}

const tooLarge = (limit: number) => payloadTooLarge(`Request body exceeds ${limit} bytes`, { limit_bytes: limit });

export function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw badRequest('Malformed JSON', (err as Error).message, 'malformed_json');
  }
}

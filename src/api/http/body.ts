import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { AppError, badRequest, payloadTooLarge } from '../../domain/errors.ts';
import { decoderFor, SUPPORTED_ENCODINGS } from './decode.ts';

export interface ReadBodyOptions {
  /** Limit on the bytes on the wire (before decoding); defaults to `limit`. */
  compressedLimit?: number;
}

/**
 * Reads a request body for the lean ingest paths: honours Content-Encoding (gzip,
 * deflate, br, zstd) and enforces `limit` on the *decoded* size while streaming, so a
 * small compression bomb is cut off at the limit, never inflated in full.
 */
export function readBody(req: IncomingMessage, limit: number, opts: ReadBodyOptions = {}): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity');
  const wireLimit = opts.compressedLimit ?? limit;
  let decoder: Transform | null;
  try {
    decoder = bodyDecoder(req, limit, opts);
  } catch (err) {
    req.resume();
    return Promise.reject(err);
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let wire = 0;
    let done = false;
    const fail = (err: AppError) => {
      if (done) return;
      done = true;
      if (decoder) req.unpipe(decoder);
      decoder?.destroy();
      req.resume(); // drain what is left so the connection can be reused
      reject(err);
    };
    if (decoder) {
      req.on('data', (chunk: Buffer) => {
        wire += chunk.length;
        if (wire > wireLimit) fail(tooLarge(wireLimit));
      });
    }
    const source = decoder ? req.pipe(decoder) : req;
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

/**
 * What the headers alone decide about a body readBody would read: the decoder for its
 * Content-Encoding, or the refusal — 415 for an unknown encoding, 413 for a declared
 * Content-Length past the limit. Throws that AppError.
 */
export function bodyDecoder(req: IncomingMessage, limit: number, opts: ReadBodyOptions = {}): Transform | null {
  const encoding = String(req.headers['content-encoding'] ?? 'identity');
  const decoder = decoderFor(encoding);
  if (decoder === undefined) {
    throw new AppError(415, 'unsupported_encoding', `Unsupported Content-Encoding "${encoding}"`, { supported: SUPPORTED_ENCODINGS });
  }
  const wireLimit = decoder ? (opts.compressedLimit ?? limit) : limit;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > wireLimit) {
    decoder?.destroy();
    throw tooLarge(wireLimit);
  }
  return decoder;
}

const tooLarge = (limit: number) => payloadTooLarge(`Request body exceeds ${limit} bytes`, { limit_bytes: limit });

export function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw badRequest('Malformed JSON', (err as Error).message, 'malformed_json');
  }
}

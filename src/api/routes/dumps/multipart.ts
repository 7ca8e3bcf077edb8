import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { AppError, badRequest, payloadTooLarge } from '../../../domain/errors.ts';
import { decodeError, decoderFor, SUPPORTED_ENCODINGS } from '../../http/decode.ts';

export interface FilePart {
  field: string;
  stream: Readable;
  /** As the client sent it (utf-8, path kept): for display only. */
  filename: string;
  mimeType: string;
}

export interface FormOptions<T> {
  /** Names of the parts that may carry the file; exactly one file per request. */
  fileFields: readonly string[];
  /** Limit on the body as it arrives, and again once Content-Encoding is undone. */
  maxWireBytes: number;
  /** Aborted when the client goes away mid-request. */
  signal: AbortSignal;
  /** Consumes the file stream (e.g. into storage). Gets the text fields sent before the file. */
  onFile(part: FilePart, fieldsBefore: ReadonlyMap<string, string>): Promise<T>;
  /** Undoes onFile's work when the form fails after the file was taken. */
  discard(result: T): Promise<void>;
}

export interface Form<T> {
  fields: Map<string, string>;
  file: (T & { filename: string; mimeType: string }) | null;
}

export const isMultipart = (req: IncomingMessage): boolean => /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');

/** The body on the wire may exceed the dump a little: multipart framing, and gzip of incompressible bytes. */
export const uploadWireLimit = (maxBytes: number) => maxBytes + Math.ceil(maxBytes / 1000) + 1024 * 1024;

/**
 * What the headers alone decide about a form readForm would read: the decoder for its
 * Content-Encoding (which stops at maxWireBytes decoded bytes: a form may be no bigger
 * decoded than on the wire), or the refusal — 415 (not multipart, unknown encoding) or
 * 413 (a declared Content-Length past maxWireBytes). Throws that AppError.
 */
export function formDecoder(req: IncomingMessage, fileField: string, maxWireBytes: number): Transform | null {
  if (!isMultipart(req)) throw new AppError(415, 'unsupported_media_type', `Send multipart/form-data with a "${fileField}" part`);
  const encoding = String(req.headers['content-encoding'] ?? 'identity');
  const decoder = decoderFor(encoding, { maxOutputBytes: maxWireBytes });
  if (decoder === undefined)
    throw new AppError(415, 'unsupported_encoding', `Unsupported Content-Encoding "${encoding}"`, { supported: SUPPORTED_ENCODINGS });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxWireBytes) {
    decoder?.destroy();
    throw payloadTooLarge(`Request body exceeds ${maxWireBytes} bytes`, { limit_bytes: maxWireBytes });
  }
  return decoder;
}

/**
 * Streams a multipart/form-data body with busboy: text fields are collected, the file
 * part goes to onFile as a stream (never buffered). Resolves once the whole body is
 * read and onFile has finished. On any failure — malformed body, too large, client
 * gone, onFile refusing — the file stream is destroyed (so partial output is
 * removed), whatever onFile produced is discarded, and the rest of the body is left
 * for the caller to drain.
 */
export function readForm<T>(req: IncomingMessage, opts: FormOptions<T>): Promise<Form<T>> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity');
  let decoder: Transform | null;
  try {
    decoder = formDecoder(req, opts.fileFields[0], opts.maxWireBytes);
  } catch (err) {
    return Promise.reject(err);
  }
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: req.headers,
      defParamCharset: 'utf8', // or non-ASCII file names arrive garbled (../shared/STACK.md)
      preservePath: true, // original_name is kept as sent; it never becomes a path
      // Parse ahead while the disk is busy (the 16 KiB default stalls the socket between writes).
      highWaterMark: 256 * 1024,
      fileHwm: 256 * 1024,
      limits: { files: 1, fields: 50, parts: 60, fieldSize: 64 * 1024, fieldNameSize: 200 },
    });
  } catch (err) {
    return Promise.reject(badRequest('Malformed multipart/form-data request', (err as Error).message, 'malformed_multipart'));
  }

  return new Promise<Form<T>>((resolve, reject) => {
    const fields = new Map<string, string>();
    let settled = false;
    let fileStream: Readable | null = null;
    let pending: Promise<T & { filename: string; mimeType: string }> | null = null;
    let wire = 0;

    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.off('data', countWire);
      req.unpipe();
      decoder?.unpipe();
      decoder?.destroy();
      if (fileStream) {
        // It may have ended already (onFile still finishing): then nobody listens for this error any more.
        fileStream.on('error', () => undefined);
        fileStream.destroy(err instanceof Error ? err : new Error(String(err)));
      }
      opts.signal.removeEventListener('abort', onAbort);
      // Answer only once onFile has cleaned up, so nothing partial outlives the request.
      const cleanup = pending
        ? pending.then(
            (t) => opts.discard(t),
            () => undefined,
          )
        : Promise.resolve();
      void cleanup.catch(() => undefined).then(() => reject(err));
    };
    const onAbort = () => fail(opts.signal.reason);
    const countWire = (chunk: Buffer) => {
      wire += chunk.length;
      if (wire > opts.maxWireBytes)
        fail(payloadTooLarge(`Request body exceeds ${opts.maxWireBytes} bytes`, { limit_bytes: opts.maxWireBytes }));
    };

    bb.on('field', (name, value, info) => {
      if (settled) return;
      if (opts.fileFields.includes(name))
        return fail(badRequest(`"${name}" must be a file part (with a filename)`, { [name]: ['expected a file'] }, 'file_required'));
      if (info.nameTruncated || info.valueTruncated)
        return fail(badRequest(`Form field "${name}" is too long`, { [name]: ['too long'] }, 'field_too_long'));
      fields.set(name, value);
    });
    bb.on('file', (name, stream, info) => {
      if (settled) return void stream.resume();
      if (!opts.fileFields.includes(name)) {
        stream.resume();
        return fail(
          badRequest(
            `Unexpected file part "${name}": send the file as "${opts.fileFields[0]}"`,
            { [name]: ['unexpected file'] },
            'unexpected_file',
          ),
        );
      }
      fileStream = stream;
      const filename = info.filename ?? '';
      pending = opts
        .onFile({ field: name, stream, filename, mimeType: info.mimeType }, new Map(fields))
        .then((t) => ({ ...t, filename, mimeType: info.mimeType }));
      pending.then(() => (fileStream = null), fail);
    });
    bb.on('filesLimit', () => fail(badRequest('Send exactly one file per request', null, 'too_many_files')));
    bb.on('fieldsLimit', () => fail(badRequest('Too many form fields', null, 'too_many_fields')));
    bb.on('partsLimit', () => fail(badRequest('Too many form parts', null, 'too_many_parts')));
    bb.on('error', (err: Error) => fail(badRequest('Malformed multipart/form-data body', err.message, 'malformed_multipart')));
    bb.on('close', () => {
      if (settled) return;
      (pending ?? Promise.resolve(null)).then((file) => {
        if (settled) return;
        settled = true;
        req.off('data', countWire);
        opts.signal.removeEventListener('abort', onAbort);
        resolve({ fields, file });
      }, fail);
    });

    if (opts.signal.aborted) return onAbort();
    opts.signal.addEventListener('abort', onAbort);
    req.on('data', countWire);
    if (decoder) {
      // Past its limit the decoder fails with the 413 itself; otherwise it is corrupt input.
      decoder.on('error', (err) => fail(decodeError(err, encoding)));
      req.pipe(decoder).pipe(bb);
    } else {
      req.pipe(bb);
    }
  });
}

/** After a refusal mid-body: stop feeding the parser and let the rest of the body drain, so the client reads our answer. */
export function stopReading(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  req.unpipe();
  req.resume();
}

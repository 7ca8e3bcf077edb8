import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { AppError, badRequest, payloadTooLarge } from '../../domain/errors.ts';
import { decodeError, decoderFor, SUPPORTED_ENCODINGS } from './decode.ts';
import { assertStorable } from '../../domain/text.ts';

export interface ReadBodyOptions {
  /** Limit on the bytes on the wire (before decoding); defaults to `limit`. */
  compressedLimit?: number;
}

const NL = 0x0a;

/**
 * A request body being read on the lean ingest paths: Content-Encoding (gzip, deflate,
 * br, zstd) undone, the wire bytes held to `compressedLimit` and the decoded bytes to
 * `limit` while streaming — the decoder stops itself at the limit, so a small
 * compression bomb is never inflated in full. Nothing is read (or decoded) beyond what
 * the caller asks for, give or take a stream buffer: firstLine() lets a route look at
 * the start of a body (to authenticate) before it pays for the rest.
 */
export class RequestBody {
  private readonly source: Readable;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  /** Where the first newline is, once looked for and seen, and how far we have looked. */
  private lineWanted = false;
  private newline = -1;
  private scanned = 0;
  private ended = false;
  private failure: AppError | null = null;
  private waiter: { until: () => boolean; resolve: () => void; reject: (err: AppError) => void } | null = null;

  /** Throws what the headers alone decide (415, 413), having let the body drain. */
  static open(req: IncomingMessage, limit: number, opts: ReadBodyOptions = {}): RequestBody {
    let decoder: Transform | null;
    try {
      decoder = bodyDecoder(req, limit, opts);
    } catch (err) {
      req.resume();
      throw err;
    }
    return new RequestBody(req, decoder, limit, opts.compressedLimit ?? limit);
  }

  private constructor(
    private readonly req: IncomingMessage,
    private readonly decoder: Transform | null,
    private readonly limit: number,
    wireLimit: number,
  ) {
    const encoding = String(req.headers['content-encoding'] ?? 'identity');
    if (decoder) {
      let wire = 0;
      req.on('data', (chunk: Buffer) => {
        wire += chunk.length;
        if (wire > wireLimit) this.fail(tooLarge(wireLimit));
      });
    }
    this.source = decoder ? req.pipe(decoder) : req;
    this.source.on('data', (chunk: Buffer) => this.take(chunk));
    this.source.pause(); // until someone asks
    this.source.on('end', () => {
      this.ended = true;
      this.settle();
    });
    this.source.on('error', (err) => this.fail(decodeError(err, encoding)));
    req.on('aborted', () => this.fail(badRequest('Request aborted', null, 'request_aborted')));
  }

  private take(chunk: Buffer): void {
    if (this.failure) return;
    this.size += chunk.length;
    if (this.size > this.limit) return this.fail(tooLarge(this.limit));
    this.chunks.push(chunk);
    if (this.lineWanted) this.scan(chunk);
    if (this.waiter?.until()) this.settle();
  }

  private scan(chunk: Buffer): void {
    if (this.newline >= 0) return;
    const at = chunk.indexOf(NL);
    if (at >= 0) this.newline = this.scanned + at;
    this.scanned += chunk.length;
  }

  private settle(): void {
    const w = this.waiter;
    this.waiter = null;
    this.source.pause();
    w?.resolve();
  }

  private fail(err: AppError): void {
    if (this.failure) return;
    this.failure = err;
    this.stop();
    const w = this.waiter;
    this.waiter = null;
    w?.reject(err);
  }

  /** Stops decoding and lets the rest of the body drain, so the connection can be reused. */
  private stop(): void {
    if (this.decoder) {
      this.req.unpipe(this.decoder);
      this.decoder.destroy();
    }
    this.req.resume();
  }

  /** Reads on until `until()` holds, the body ends, or it fails. */
  private read(until: () => boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended || until()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiter = { until, resolve, reject };
      this.source.resume();
    });
  }

  /**
   * The body's first line (without its newline), or all of it when it has none. Reading
   * stops there, give or take a chunk; all() reads the rest. A first line longer than
   * `maxBytes` is a 400 (`code`) — whatever it is, it is not what the route expects.
   */
  async firstLine(maxBytes: number, code: string): Promise<Buffer> {
    if (!this.lineWanted) {
      this.lineWanted = true;
      this.chunks.forEach((c) => this.scan(c));
    }
    await this.read(() => this.newline >= 0 || this.size > maxBytes);
    const end = this.newline >= 0 ? this.newline : this.size;
    if (end > maxBytes) {
      this.discard();
      throw badRequest(`The first line of the body is longer than ${maxBytes} bytes`, { limit_bytes: maxBytes }, code);
    }
    return this.bytes().subarray(0, end);
  }

  /** The whole body (including what firstLine() read). */
  async all(): Promise<Buffer> {
    await this.read(() => false);
    return this.bytes();
  }

  /** For a refusal before the body was read: decode nothing more, drain the rest. */
  discard(): void {
    if (this.failure || this.ended) return;
    this.failure = badRequest('The body was not read', null, 'body_discarded');
    this.stop();
  }

  private bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks.splice(0, this.chunks.length, Buffer.concat(this.chunks, this.size));
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

/** Reads a whole request body, decoded and limited as RequestBody describes. */
export function readBody(req: IncomingMessage, limit: number, opts: ReadBodyOptions = {}): Promise<Buffer> {
  try {
    return RequestBody.open(req, limit, opts).all();
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Identity bodies: the same limit the decoders enforce, on bytes passed through as they are. */
class ByteLimit extends Transform {
  private size = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limit) return cb(tooLarge(this.limit));
    cb(null, chunk);
  }
}

/**
 * A request body as a stream, for consumers that store it rather than hold it (dumps):
 * decoded, with the wire bytes held to `compressedLimit` and the decoded bytes to `limit`
 * while they flow. It fails only with AppErrors — 413, 400 invalid_encoding, 400
 * request_aborted — and never destroys the request, so the caller can still answer
 * (drain the rest with stopReading()). Throws what the headers alone decide, as bodyDecoder.
 */
export function bodyStream(req: IncomingMessage, limit: number, opts: ReadBodyOptions = {}): Readable {
  const decoder = bodyDecoder(req, limit, opts);
  const out = decoder ?? new ByteLimit(limit);
  const wireLimit = opts.compressedLimit ?? limit;
  let wire = 0;
  const countWire = (chunk: Buffer) => {
    wire += chunk.length;
    if (wire > wireLimit) fail(tooLarge(wireLimit));
  };
  const onClose = () => {
    if (!req.complete) fail(badRequest('The client closed the connection mid-upload', null, 'request_aborted'));
  };
  const done = () => {
    req.off('data', countWire);
    req.off('close', onClose);
  };
  const fail = (err: AppError) => {
    done();
    req.unpipe(out);
    out.destroy(err);
  };
  if (decoder) req.on('data', countWire);
  req.on('close', onClose);
  out.once('end', done).once('close', done);
  const piped = req.pipe(out);
  if (req.destroyed) onClose(); // gone already while the route authenticated: 'close' will not come again
  return piped;
}

/**
 * What the headers alone decide about a body readBody would read: the decoder for its
 * Content-Encoding (which stops at `limit` decoded bytes), or the refusal — 415 for an
 * unknown encoding, 413 for a declared Content-Length past the limit. Throws that AppError.
 */
export function bodyDecoder(req: IncomingMessage, limit: number, opts: ReadBodyOptions = {}): Transform | null {
  const encoding = String(req.headers['content-encoding'] ?? 'identity');
  const decoder = decoderFor(encoding, { maxOutputBytes: limit });
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

/** JSON.parse, refusing malformed JSON (400 malformed_json) and nesting past MAX_JSON_DEPTH (400 too_deep). */
export function parseJson(buf: Buffer): unknown {
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw badRequest('Malformed JSON', (err as Error).message, 'malformed_json');
  }
  // Ingested text keeps NUL (the normalizers replace it); only the depth is checked here.
  assertStorable(value, { nul: false });
  return value;
}

import type { Transform, TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { BoundedDecoder } from './decoder.ts';
import { ZstdDecoder } from './zstd.ts';

export { decodeError } from './decoder.ts';

const EMPTY = Buffer.alloc(0);

/**
 * RFC 1950's header: CM 8 (deflate), CINFO ≤ 7, the two bytes a multiple of 31. Raw
 * deflate (what many HTTP clients send as "deflate", against RFC 9110) does not pass it.
 */
const isZlibHeader = (b: Buffer) => b.length >= 2 && (b[0] & 0x0f) === 8 && b[0] >> 4 <= 7 && ((b[0] << 8) | b[1]) % 31 === 0;

/**
 * gzip, deflate and br through node:zlib. The zlib stream is made once the first bytes
 * are in (deflate picks zlib-wrapped or raw from them); its output is paused whenever
 * ours is not being read, so zlib never inflates far ahead of the consumer, and it is
 * destroyed the moment the output passes the limit.
 */
class ZlibDecoder extends BoundedDecoder {
  private inner: Transform | null = null;
  private head: Buffer = EMPTY;

  constructor(
    encoding: string,
    maxOutputBytes: number,
    private readonly open: (head: Buffer) => Transform,
    /** How many leading bytes `open` wants to see. */
    private readonly sniffBytes = 0,
  ) {
    super(encoding, maxOutputBytes);
  }

  private start(): Transform {
    const inner = this.open(this.head);
    inner.on('data', (chunk: Buffer) => {
      try {
        if (!this.output(chunk)) inner.pause();
      } catch (err) {
        this.fail(err);
      }
    });
    inner.on('error', (err) => this.fail(err));
    this.inner = inner;
    return inner;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let inner = this.inner;
    if (!inner) {
      this.head = this.head.length ? Buffer.concat([this.head, chunk]) : chunk;
      if (this.head.length < this.sniffBytes) return cb();
      inner = this.start();
      chunk = this.head;
      this.head = EMPTY;
    }
    // Called back once zlib has taken the chunk in and has room for more: backpressure reaches the socket.
    // A failure arrives as inner's 'error' (which destroys us), not here.
    inner.write(chunk, () => cb());
  }

  override _flush(cb: TransformCallback): void {
    // An empty or too short body still goes through zlib, which says what is wrong with it.
    const inner = this.inner ?? this.start();
    if (this.head.length) inner.write(this.head);
    this.head = EMPTY;
    inner.once('end', () => cb());
    inner.end();
  }

  override _read(size: number): void {
    this.inner?.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.inner?.destroy();
    cb(err);
  }
}

export interface DecoderOptions {
  /** The decoder fails with 413 as soon as its output passes this many bytes, and decodes no further. */
  maxOutputBytes: number;
}

export const SUPPORTED_ENCODINGS = ['gzip', 'deflate', 'br', 'zstd', 'identity'];

/**
 * A decoder for a Content-Encoding value: null for identity, undefined when unsupported.
 * Each one stops at `maxOutputBytes` itself (a 33 KB zstd body can claim 1 GB) and fails
 * only with AppErrors: 413 past the limit, 400 invalid_encoding for corrupt data.
 * "deflate" is zlib-wrapped as HTTP says, but raw deflate from lax clients is accepted too.
 */
export function decoderFor(encoding: string, opts: DecoderOptions): Transform | null | undefined {
  const max = opts.maxOutputBytes;
  switch (encoding.trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return new ZlibDecoder('gzip', max, () => createGunzip());
    case 'deflate':
      return new ZlibDecoder('deflate', max, (head) => (isZlibHeader(head) ? createInflate() : createInflateRaw()), 2);
    case 'br':
      return new ZlibDecoder('br', max, () => createBrotliDecompress());
    case 'zstd':
      return new ZstdDecoder(max);
    default:
      return undefined;
  }
}

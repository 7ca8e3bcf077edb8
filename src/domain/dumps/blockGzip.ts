import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gzip } from 'node:zlib';
import type { BlobStore, ByteRange } from '../../storage/blobStore.ts';

/**
 * The archive format: a gzip file made of independent members of BLOCK_BYTES of input
 * each (like BGZF). Any gzip tool reads it (`gunzip -c`), and because every member's
 * header carries its own compressed and uncompressed sizes (an "FL" extra field), a
 * Range request on an archived dump hops from header to header to the member holding
 * the first wanted byte and decompresses from there: at most one block is inflated
 * and thrown away, whatever the offset. Archive files describe themselves, so a crash
 * between writing the archive and recording it loses nothing.
 */
export const BLOCK_BYTES = 4 * 1024 * 1024;

const gzipAsync = promisify(gzip);
/** gzip header (10) + XLEN (2) + subfield id (2) + length (2) + member size (4) + raw size (4). */
const HEADER_BYTES = 24;
const FEXTRA = 0x04;

/** zlib's gzip member with our FL extra field spliced in after the fixed 10-byte header. */
function withSizes(member: Buffer, rawSize: number): Buffer {
  const head = Buffer.from(member.subarray(0, 10));
  head[3] |= FEXTRA;
  const extra = Buffer.alloc(14);
  extra.writeUInt16LE(12, 0); // XLEN
  extra.write('FL', 2, 'latin1');
  extra.writeUInt16LE(8, 4);
  extra.writeUInt32LE(member.length + 14, 6);
  extra.writeUInt32LE(rawSize, 10);
  return Buffer.concat([head, extra, member.subarray(10)]);
}

/**
 * Compresses a stream into the block format. Blocks are compressed on libuv's thread
 * pool, `parallel` at a time, and written in order: archiving uses more than one core
 * without holding more than (parallel + 1) blocks in memory.
 */
export class BlockGzipWriter extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inFlight: Array<Promise<Buffer>> = [];
  private blocks = 0;

  constructor(private readonly opts: { blockBytes?: number; parallel?: number; level?: number } = {}) {
    super();
  }

  private get blockBytes() {
    return this.opts.blockBytes ?? BLOCK_BYTES;
  }

  private async submit(block: Buffer): Promise<void> {
    const job = gzipAsync(block, { level: this.opts.level ?? 6 }).then((m) => withSizes(m, block.length));
    job.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    this.inFlight.push(job);
    this.blocks++;
    if (this.inFlight.length >= (this.opts.parallel ?? 2)) this.push(await this.inFlight.shift()!);
  }

  override async _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): Promise<void> {
    try {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      while (this.pendingBytes >= this.blockBytes) {
        const all = Buffer.concat(this.pending, this.pendingBytes);
        const rest = all.subarray(this.blockBytes);
        this.pending = rest.length ? [rest] : [];
        this.pendingBytes = rest.length;
        await this.submit(all.subarray(0, this.blockBytes));
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override async _flush(cb: TransformCallback): Promise<void> {
    try {
      // An empty dump still gets one (empty) member: an empty file is not valid gzip.
      if (this.pendingBytes || this.blocks === 0) await this.submit(Buffer.concat(this.pending, this.pendingBytes));
      while (this.inFlight.length) this.push(await this.inFlight.shift()!);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

async function readExactly(store: BlobStore, key: string, start: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key, { start, end: start + length - 1 })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The sizes in a member header, or null when this is not our block format (e.g. a plain gzip). */
async function memberSizes(store: BlobStore, key: string, offset: number): Promise<{ member: number; raw: number } | null> {
  const h = await readExactly(store, key, offset, HEADER_BYTES);
  if (h.length < HEADER_BYTES || h[0] !== 0x1f || h[1] !== 0x8b || !(h[3] & FEXTRA)) return null;
  if (h.readUInt16LE(10) !== 12 || h.toString('latin1', 12, 14) !== 'FL' || h.readUInt16LE(14) !== 8) return null;
  return { member: h.readUInt32LE(16), raw: h.readUInt32LE(20) };
}

/**
 * The original bytes of an archived object, or an inclusive range of them, decompressed
 * on the fly. `size` is the original size (from the database), for range arithmetic.
 */
export async function openArchived(store: BlobStore, key: string, range?: ByteRange): Promise<Readable> {
  const start = range?.start ?? 0;
  let offset = 0;
  let raw = 0;
  while (start > 0) {
    const sizes = await memberSizes(store, key, offset);
    if (!sizes || sizes.member === 0) {
      // Not block-formatted after all: inflate from the beginning and skip.
      offset = 0;
      raw = 0;
      break;
    }
    if (raw + sizes.raw > start) break;
    offset += sizes.member;
    raw += sizes.raw;
  }
  const source = await store.get(key, { start: offset });
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  // Errors reach the reader through gunzip; the callback only has to exist.
  pipeline(source, gunzip, () => undefined);
  const skip = start - raw;
  const take = range?.end === undefined ? Number.POSITIVE_INFINITY : range.end - start + 1;
  return Readable.from(slice(gunzip, source, skip, take), { objectMode: false, highWaterMark: 256 * 1024 });
}

async function* slice(inflated: Readable, source: Readable, skip: number, take: number): AsyncGenerator<Buffer> {
  let toSkip = skip;
  let left = take;
  try {
    for await (const chunk of inflated) {
      let c = chunk as Buffer;
      if (toSkip) {
        if (c.length <= toSkip) {
          toSkip -= c.length;
          continue;
        }
        c = c.subarray(toSkip);
        toSkip = 0;
      }
      if (c.length >= left) {
        yield c.subarray(0, left);
        return; // the range is complete: stop reading and inflating the rest
      }
      left -= c.length;
      yield c;
    }
    if (Number.isFinite(left) && left > 0) throw new Error('archive copy is shorter than the dump');
  } finally {
    source.destroy();
    inflated.destroy();
  }
}

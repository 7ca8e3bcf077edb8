/**
 * Decompression bombs for tests: a few KB to a few MB on the wire, any size decoded
 * (mostly zeros), made in milliseconds without ever holding the decoded bytes.
 */
import zlib from 'node:zlib';

export const ENCODINGS = ['gzip', 'deflate', 'deflate-raw', 'br', 'zstd'] as const;
export type BombEncoding = (typeof ENCODINGS)[number];

/** The Content-Encoding header for each: raw deflate goes out as "deflate", as lax clients send it. */
export const contentEncoding = (e: BombEncoding) => (e === 'deflate-raw' ? 'deflate' : e);

const MiB = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Raw deflate ended by a full flush is byte-aligned and starts a fresh history, so such
 * pieces concatenate into one valid stream: 1 MiB of zeros is ~1 KB of it.
 */
const fullFlush = (b: Buffer) => zlib.deflateRawSync(b, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
const ZEROS_MIB = fullFlush(Buffer.alloc(MiB));

function rawDeflate(prefix: Buffer, mib: number, suffix: Buffer): Buffer {
  // The trailers below (CRC-32, Adler-32) are zeros: a decoder that stops at its limit never reads them.
  return Buffer.concat([fullFlush(prefix), ...Array<Buffer>(mib).fill(ZEROS_MIB), zlib.deflateRawSync(suffix)]);
}

/** RFC 8878 by hand: one frame, 128 KiB window, the zeros as RLE blocks (4 bytes per 128 KiB). */
function zstdBomb(prefix: Buffer, mib: number, suffix: Buffer): Buffer {
  const block = (type: 0 | 1, size: number, last: boolean, content: Buffer) => {
    const h = (size << 3) | (type << 1) | (last ? 1 : 0);
    return Buffer.concat([Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), content]);
  };
  const BLOCK = 128 * 1024;
  const raw = (b: Buffer, last: boolean) => {
    const out: Buffer[] = [];
    for (let at = 0; at < b.length || (last && at === 0); at += BLOCK) {
      const piece = b.subarray(at, at + BLOCK);
      out.push(block(0, piece.length, last && at + BLOCK >= b.length, piece));
    }
    return out;
  };
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]), ...raw(prefix, false)];
  for (let i = 0; i < mib * 8; i++) parts.push(block(1, BLOCK, false, Buffer.from([0])));
  parts.push(...raw(suffix, true));
  return Buffer.concat(parts);
}

async function brotliBomb(prefix: Buffer, mib: number, suffix: Buffer): Promise<Buffer> {
  const z = zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve, reject) => z.on('end', resolve).on('error', reject));
  const zeros = Buffer.alloc(MiB);
  z.write(prefix);
  for (let i = 0; i < mib; i++) if (!z.write(zeros)) await new Promise((r) => z.once('drain', r));
  z.end(suffix);
  await done;
  return Buffer.concat(out);
}

/** `prefix`, then `mib` MiB of zeros, then `suffix`, compressed with `encoding`. */
export async function bomb(encoding: BombEncoding, mib: number, prefix: Buffer = EMPTY, suffix: Buffer = EMPTY): Promise<Buffer> {
  switch (encoding) {
    case 'gzip':
      return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), rawDeflate(prefix, mib, suffix), Buffer.alloc(8)]);
    case 'deflate':
      return Buffer.concat([Buffer.from([0x78, 0xda]), rawDeflate(prefix, mib, suffix), Buffer.alloc(4)]);
    case 'deflate-raw':
      return rawDeflate(prefix, mib, suffix);
    case 'br':
      return brotliBomb(prefix, mib, suffix);
    case 'zstd':
      return zstdBomb(prefix, mib, suffix);
  }
}

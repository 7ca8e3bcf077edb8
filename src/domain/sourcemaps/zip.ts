/**
 * Just enough of the ZIP format to unpack sentry-cli's artifact bundles: the central
 * directory, stored and deflated entries, sizes checked against the directory. No zip64
 * and no encryption (sentry-cli writes neither); anything else is refused as invalid.
 * (No zip library is in this project's dependencies; this reader is ~80 lines and only
 * ever sees bundles whose size is already bounded.)
 */
import { inflateRawSync } from 'node:zlib';

export class ZipError extends Error {}

export interface ZipEntry {
  name: string;
  size: number;
  read(): Buffer;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function readZip(buf: Buffer, opts: { maxEntries?: number; maxEntryBytes?: number } = {}): ZipEntry[] {
  const maxEntries = opts.maxEntries ?? 10_000;
  const maxEntryBytes = opts.maxEntryBytes ?? 256 * 1024 * 1024;
  // The end-of-central-directory record is in the last 22 + 65535 bytes (its comment is at most 64 KiB).
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('not a zip file (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  const dirSize = buf.readUInt32LE(eocd + 12);
  const dirOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirOffset === 0xffffffff) throw new ZipError('zip64 archives are not supported');
  if (count > maxEntries) throw new ZipError(`too many entries (${count})`);
  if (dirOffset + dirSize > buf.length) throw new ZipError('truncated central directory');
  const entries: ZipEntry[] = [];
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL) throw new ZipError('bad central directory entry');
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 0x1) throw new ZipError(`${name}: encrypted entries are not supported`);
    if (method !== 0 && method !== 8) throw new ZipError(`${name}: compression method ${method} is not supported`);
    if (size > maxEntryBytes) throw new ZipError(`${name}: ${size} bytes is too large`);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== LOCAL) throw new ZipError(`${name}: bad local header`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + compressed > buf.length) throw new ZipError(`${name}: truncated`);
    entries.push({
      name,
      size,
      read: () => {
        const raw = buf.subarray(start, start + compressed);
        const out = method === 0 ? raw : inflateRawSync(raw, { maxOutputLength: Math.max(size, 1) });
        if (out.length !== size) throw new ZipError(`${name}: size does not match the directory`);
        return out;
      },
    });
  }
  return entries;
}

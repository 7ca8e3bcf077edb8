import type { Readable } from 'node:stream';
import type { DumpStores } from '../../storage/index.ts';
import { BlobNotFoundError, StorageUnavailableError, type ByteRange } from '../../storage/blobStore.ts';
import { AppError, unavailable } from '../errors.ts';
import { openArchived } from './blockGzip.ts';
import { archiveKey, liveKey } from './keys.ts';

export interface StoredDump {
  id: string;
  archived: boolean;
}

/** A row whose bytes are gone is our inconsistency, not the caller's mistake: say so plainly. */
export const bytesMissing = (id: string) => new AppError(404, 'dump_bytes_missing', `The bytes of dump ${id} are missing from storage`);

/** The dump's original bytes (or an inclusive range of them), live or archived alike. */
export async function openDumpBytes(stores: DumpStores, dump: StoredDump, range?: ByteRange): Promise<Readable> {
  try {
    if (!dump.archived) return await stores.live.get(liveKey(dump.id), range);
    return await openArchived(stores.archive, archiveKey(dump.id), range);
  } catch (err) {
    if (err instanceof BlobNotFoundError) throw bytesMissing(dump.id);
    throw err;
  }
}

const PAGE = 64 * 1024;
const MAX_PAGES = 64;

/**
 * Random access over a dump in 64 KiB pages with a small cache, for parsers that ask
 * for many small pieces (a minidump's module names sit near each other).
 */
export function pagedReader(stores: DumpStores, dump: StoredDump): (offset: number, length: number) => Promise<Buffer> {
  const pages = new Map<number, Promise<Buffer>>();
  const page = (n: number): Promise<Buffer> => {
    let p = pages.get(n);
    if (!p) {
      if (pages.size >= MAX_PAGES) pages.delete(pages.keys().next().value!);
      p = (async () => {
        const chunks: Buffer[] = [];
        for await (const c of await openDumpBytes(stores, dump, { start: n * PAGE, end: (n + 1) * PAGE - 1 })) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      })();
      pages.set(n, p);
    }
    return p;
  };
  return async (offset, length) => {
    const parts: Buffer[] = [];
    for (let n = Math.floor(offset / PAGE); n * PAGE < offset + length; n++) {
      const buf = await page(n);
      const from = Math.max(0, offset - n * PAGE);
      const to = Math.min(buf.length, offset + length - n * PAGE);
      parts.push(buf.subarray(from, to));
      if (buf.length < PAGE) break; // end of file
    }
    return Buffer.concat(parts);
  };
}

/** Disk full, read-only or failing: 503 with Retry-After (invariant 1), never a 2xx or a 500. */
export function storageFailure(err: unknown): unknown {
  if (err instanceof StorageUnavailableError) {
    return unavailable(
      'Dump storage cannot take this right now (disk full or not writable); retry later',
      STORAGE_RETRY_AFTER_S,
      'storage_unavailable',
    );
  }
  return err;
}
export const STORAGE_RETRY_AFTER_S = 30;

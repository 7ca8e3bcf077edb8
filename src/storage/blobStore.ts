import type { Readable } from 'node:stream';

/**
 * Where large bytes (crash dumps) live, behind one small interface so that an
 * S3-compatible store can replace the local disk without touching callers.
 *
 * Keys are relative, slash-separated paths ("a/b/<uuid>"). The contract callers rely on:
 * - put() resolves only once the bytes are durable and visible under the key, all at
 *   once: a reader never sees a partial object, and a failed or aborted put leaves
 *   nothing under the key.
 * - get() streams the object, or an inclusive byte range of it.
 * - move() is atomic within one store (a rename, or a server-side copy + delete).
 * - delete() is idempotent.
 */
export interface BlobStore {
  /** A name for logs and errors, e.g. the root folder. */
  readonly name: string;
  put(key: string, source: Readable): Promise<BlobInfo>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  stat(key: string): Promise<BlobInfo | null>;
  move(from: string, to: string): Promise<void>;
  /** true if something was deleted. */
  delete(key: string): Promise<boolean>;
  /** Every key under a prefix ("a/b/"), for garbage collection. */
  list(prefix: string): AsyncIterable<BlobEntry>;
  /** Removes what interrupted puts left behind (temp files, unfinished multipart uploads) older than maxAgeMs. */
  purgeIncomplete(maxAgeMs: number): Promise<number>;
}

/** Inclusive on both ends, as HTTP Range counts. `end` omitted: to the end. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface BlobInfo {
  size: number;
  /** Last change to the object (content or name). */
  modifiedAt: Date;
}

export interface BlobEntry extends BlobInfo {
  key: string;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No stored object "${key}"`);
    this.name = 'BlobNotFoundError';
  }
}

/** The store cannot take or give bytes right now (disk full, read-only, I/O error): retry later. */
export class StorageUnavailableError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

const KEY_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Keys are ours (uuids and fixed folders), never client input; this only guards against bugs. */
export function assertKey(key: string): void {
  const segments = key.split('/');
  if (!key || key.length > 512 || !segments.every((s) => KEY_SEGMENT.test(s))) throw new Error(`invalid storage key "${key}"`);
}

import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../errors.ts';

export interface DiskGuardOptions {
  minFreeBytes: number;
  minFreePercent: number;
  retryAfterSeconds: number;
}

export interface Volume {
  path: string;
  freeBytes: number;
  totalBytes: number;
}

/** Free space of the volume holding `path` (what an unprivileged process may use: bavail). */
export async function volumeOf(path: string): Promise<Volume> {
  // A folder not made yet (created on first write) lives on its nearest existing parent's volume.
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = await statfs(p);
      return { path, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw err;
    }
  }
}

const CACHE_MS = 1000;

/**
 * Refuses uploads before a byte is written while their volume is nearly full: a full disk
 * would fail them halfway (and hang whatever else writes there, PostgreSQL included).
 * 507 Insufficient Storage with Retry-After; statfs is cached for a second per folder.
 */
export class DiskGuard {
  private readonly cache = new Map<string, { at: number; volume: Promise<Volume> }>();

  constructor(private readonly o: DiskGuardOptions) {}

  async volume(path: string): Promise<Volume> {
    const now = Date.now();
    const hit = this.cache.get(path);
    if (hit && now - hit.at < CACHE_MS) return hit.volume;
    const volume = volumeOf(path);
    this.cache.set(path, { at: now, volume });
    volume.catch(() => this.cache.delete(path));
    return volume;
  }

  /** Throws 507 when `path`'s volume has less free space than either threshold. */
  async assertRoom(path: string): Promise<void> {
    let v: Volume;
    try {
      v = await this.volume(path);
    } catch {
      return; // no statfs here: nothing to guard with
    }
    const percent = v.totalBytes ? (100 * v.freeBytes) / v.totalBytes : 100;
    if (v.freeBytes < this.o.minFreeBytes || percent < this.o.minFreePercent) {
      throw new AppError(
        507,
        'insufficient_storage',
        'The server is low on disk space for uploads; retry later',
        { free_bytes: v.freeBytes, min_free_bytes: this.o.minFreeBytes, min_free_percent: this.o.minFreePercent },
        { 'Retry-After': String(this.o.retryAfterSeconds) },
      );
    }
  }
}

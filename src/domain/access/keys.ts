import { createHash, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ApiKeyScope } from '../../entities/ApiKey.ts';

/** Keys match ^\w+$ so they fit a Sentry DSN's user part. */
export const API_KEY_PATTERN = /^\w{8,128}$/;

export const hashApiKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time, whatever the lengths (compares fixed-size digests). */
export const secretsEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

export interface ResolvedKey {
  id: number;
  projectId: number;
  scopes: ApiKeyScope[];
}

interface CacheEntry {
  value: ResolvedKey | null;
  expires: number;
}

const MAX_CACHE = 10_000;
const TOUCH_EVERY_MS = 60_000;

/**
 * Looks up API keys by hash with a short-lived cache, so the hot ingest path does not
 * hit PostgreSQL per request. A revoked key stops working at once in this process (the
 * key services invalidate it) and within the TTL elsewhere. Unknown keys are cached too
 * (negative entries), so a flood of bad keys is cheap.
 */
export class ApiKeyResolver {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<ResolvedKey | null>>();
  private readonly touched = new Map<number, number>();

  constructor(
    private readonly ds: DataSource,
    private readonly ttlMs: number,
  ) {}

  async resolve(secret: string): Promise<ResolvedKey | null> {
    if (!API_KEY_PATTERN.test(secret)) return null;
    const now = Date.now();
    // Cached by the secret itself (it is in every request's headers anyway): a hit costs no hashing.
    const hit = this.cache.get(secret);
    let value: ResolvedKey | null;
    if (hit && hit.expires > now) {
      value = hit.value;
    } else {
      let pending = this.loading.get(secret);
      if (!pending) {
        pending = this.load(secret).finally(() => this.loading.delete(secret));
        this.loading.set(secret, pending);
      }
      value = await pending;
    }
    if (value) this.touch(value.id, now);
    return value;
  }

  /** A key by id, uncached: still active, with its scopes (machine tokens live as long as their key). */
  async byId(id: number): Promise<ResolvedKey | null> {
    const rows: Array<{ id: number; project_id: number; scopes: ApiKeyScope[] }> = await this.ds.query(
      `SELECT id, project_id, scopes FROM api_keys WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    );
    return rows[0] ? { id: rows[0].id, projectId: rows[0].project_id, scopes: rows[0].scopes } : null;
  }

  private async load(secret: string): Promise<ResolvedKey | null> {
    const hash = hashApiKey(secret);
    const rows: Array<{ id: number; project_id: number; scopes: ApiKeyScope[] }> = await this.ds.query(
      `SELECT id, project_id, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    const value = rows[0] ? { id: rows[0].id, projectId: rows[0].project_id, scopes: rows[0].scopes } : null;
    if (this.ttlMs > 0) {
      if (this.cache.size >= MAX_CACHE) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(secret, { value, expires: Date.now() + this.ttlMs });
    }
    return value;
  }

  /** last_used_at, written at most once a minute per key and never on the request's critical path. */
  private touch(id: number, now: number): void {
    if ((this.touched.get(id) ?? 0) + TOUCH_EVERY_MS > now) return;
    this.touched.set(id, now);
    if (this.touched.size > MAX_CACHE) this.touched.clear();
    this.ds.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [id]).catch(() => undefined);
  }

  /** Forget every cached lookup (a key was revoked or changed; we only know its hash). */
  invalidate(): void {
    this.cache.clear();
  }
}

/**
 * Releases: one per project and version, created by the first event that names it (the
 * worker, before the events are stored) or by the API. They order regressions
 * ("resolved in 2.1.0": is this event's release newer?) — by semver when versions are
 * semver (`1.2.3`, `shop@1.2.3-rc.1+build5`) of the same package, otherwise by when
 * Faultline first heard of them (the `faultline_release_newer` SQL function).
 */
import type { Sql } from '../../db/sql.ts';
import type { EventRecord } from '../events/record.ts';

export interface ParsedVersion {
  package: string | null;
  major: number;
  minor: number;
  patch: number;
  pre: string | null;
}

const SEMVER = /^v?(\d{1,15})(?:\.(\d{1,15}))?(?:\.(\d{1,15}))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** `package@version` (Sentry's convention) with a semver-ish version; null when it is not one. */
export function parseVersion(version: string): ParsedVersion | null {
  const at = version.lastIndexOf('@');
  const pkg = at > 0 ? version.slice(0, at) : null;
  const m = SEMVER.exec(at > 0 ? version.slice(at + 1) : version);
  if (!m) return null;
  return { package: pkg, major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), pre: m[4] ?? null };
}

const UPSERT = `
  INSERT INTO releases (project_id, version, package, semver_major, semver_minor, semver_patch, semver_pre, first_seen, last_seen)
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::timestamptz[], $9::timestamptz[])
  ON CONFLICT (project_id, version) DO UPDATE SET
    first_seen = LEAST(coalesce(releases.first_seen, EXCLUDED.first_seen), EXCLUDED.first_seen),
    last_seen  = GREATEST(coalesce(releases.last_seen, EXCLUDED.last_seen), EXCLUDED.last_seen)
    WHERE EXCLUDED.first_seen IS NOT NULL`;

interface Seen {
  projectId: number;
  version: string;
  /** When events of it were seen; null for releases only named by sessions. */
  first: string | null;
  last: string | null;
}

/** Upserts releases (first/last seen widened, never narrowed: re-running is harmless). */
export async function upsertReleases(sql: Sql, seen: Seen[]): Promise<void> {
  if (!seen.length) return;
  // Sorted, so concurrent workers touch the same rows in the same order.
  const rows = [...seen].sort((a, b) => a.projectId - b.projectId || (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  const parsed = rows.map((r) => parseVersion(r.version));
  await sql.query(UPSERT, [
    rows.map((r) => r.projectId),
    rows.map((r) => r.version),
    parsed.map((p) => p?.package ?? null),
    parsed.map((p) => p?.major ?? null),
    parsed.map((p) => p?.minor ?? null),
    parsed.map((p) => p?.patch ?? null),
    parsed.map((p) => p?.pre ?? null),
    rows.map((r) => r.first),
    rows.map((r) => r.last),
  ]);
}

/** How stale a release's last_seen may get in exchange for not writing it on every batch. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Per worker process: which releases exist and when their last_seen was last written.
 * A batch whose releases are all known and fresh costs no statement.
 */
export class ReleaseCache {
  private readonly known = new Map<string, { lastSeen: number; touched: number }>();
  constructor(private readonly max = 20_000) {}

  /** The releases of `records` that need an upsert now (new, or last_seen moved on). */
  due(records: EventRecord[], now = Date.now()): Seen[] {
    const batch = new Map<string, Seen>();
    for (const r of records) {
      if (!r.release) continue;
      const key = `${r.project_id}:${r.release}`;
      const s = batch.get(key);
      if (!s) batch.set(key, { projectId: r.project_id, version: r.release, first: r.timestamp, last: r.timestamp });
      else {
        if (r.timestamp < s.first!) s.first = r.timestamp;
        if (r.timestamp > s.last!) s.last = r.timestamp;
      }
    }
    const out: Seen[] = [];
    for (const [key, s] of batch) {
      const k = this.known.get(key);
      if (!k || (Date.parse(s.last!) > k.lastSeen && now - k.touched >= TOUCH_EVERY_MS)) out.push(s);
    }
    return out;
  }

  remember(seen: Seen[], now = Date.now()): void {
    for (const s of seen) {
      if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value!);
      const key = `${s.projectId}:${s.version}`;
      const prev = this.known.get(key);
      this.known.set(key, { lastSeen: Math.max(prev?.lastSeen ?? 0, s.last ? Date.parse(s.last) : 0), touched: now });
    }
  }

  clear(): void {
    this.known.clear();
  }
}

/** Before a batch is stored: every release it names exists (the regression check compares against them). */
export async function prepareReleases(sql: Sql, records: EventRecord[], cache: ReleaseCache): Promise<void> {
  const due = cache.due(records);
  if (!due.length) return;
  await upsertReleases(sql, due);
  cache.remember(due);
}

/** Release rows for versions named without events (sessions): created with their semver parts, nothing else touched. */
export async function ensureVersions(sql: Sql, pairs: Array<{ projectId: number; version: string }>): Promise<void> {
  const unique = [...new Map(pairs.map((p) => [`${p.projectId}:${p.version}`, { ...p, first: null, last: null }])).values()];
  await upsertReleases(sql, unique);
}

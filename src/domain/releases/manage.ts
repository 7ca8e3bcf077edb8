/**
 * Releases through the API and the admin: create one ahead of its events (a deploy
 * step, `resolve in release X`), list a project's releases with what happened in each
 * (new issues, events, crash-free sessions and users).
 */
import type { DataSource, EntityManager } from 'typeorm';
import { Release } from '../../entities/Release.ts';
import { notFound } from '../errors.ts';
import { releaseHealth, type ReleaseHealth } from '../sessions/health.ts';
import { parseVersion } from './releases.ts';

type Db = Pick<EntityManager, 'query'> | Pick<DataSource, 'query'>;

/** The release row for a version, created if missing (idempotent). */
export async function ensureRelease(
  db: Db,
  projectId: number,
  version: string,
  userId: number | null = null,
  dateReleased: Date | null = null,
): Promise<void> {
  const p = parseVersion(version);
  await db.query(
    `INSERT INTO releases (project_id, version, package, semver_major, semver_minor, semver_patch, semver_pre, created_by_id, date_released)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (project_id, version) DO UPDATE SET date_released = coalesce(EXCLUDED.date_released, releases.date_released)`,
    [projectId, version, p?.package ?? null, p?.major ?? null, p?.minor ?? null, p?.patch ?? null, p?.pre ?? null, userId, dateReleased],
  );
}

/** Newest first, in the order regressions use: semver where versions are semver, else when first heard of. */
const newestFirst = (
  a: string,
) => `(${a}.semver_major IS NOT NULL) DESC, ${a}.semver_major DESC, ${a}.semver_minor DESC, ${a}.semver_patch DESC,
  (${a}.semver_pre IS NULL) DESC, ${a}.semver_pre DESC, ${a}.created_at DESC, ${a}.id DESC`;

export async function latestRelease(db: Db, projectId: number): Promise<{ version: string } | null> {
  const rows: Array<{ version: string }> = await db.query(
    `SELECT version FROM releases r WHERE r.project_id = $1 ORDER BY ${newestFirst('r')} LIMIT 1`,
    [projectId],
  );
  return rows[0] ?? null;
}

export interface ReleaseSummary {
  version: string;
  package: string | null;
  first_seen: string | null;
  last_seen: string | null;
  date_released: string | null;
  created_at: string;
  new_issues: number;
  health: ReleaseHealth;
}

function summarize(
  r: {
    version: string;
    package: string | null;
    first_seen: Date | null;
    last_seen: Date | null;
    date_released: Date | null;
    created_at: Date;
    new_issues: number;
  },
  health: ReleaseHealth,
): ReleaseSummary {
  return {
    version: r.version,
    package: r.package,
    first_seen: r.first_seen?.toISOString() ?? null,
    last_seen: r.last_seen?.toISOString() ?? null,
    date_released: r.date_released?.toISOString() ?? null,
    created_at: r.created_at.toISOString(),
    new_issues: Number(r.new_issues),
    health,
  };
}

const SELECT = `SELECT r.version, r.package, r.first_seen, r.last_seen, r.date_released, r.created_at,
                       (SELECT count(*)::int FROM issues i WHERE i.project_id = r.project_id AND i.first_release = r.version) AS new_issues
                  FROM releases r`;

export async function listReleases(ds: DataSource, projectId: number, page: { page: number; pageSize: number }) {
  const [{ n }]: Array<{ n: number }> = await ds.query(`SELECT count(*)::int AS n FROM releases WHERE project_id = $1`, [projectId]);
  const rows = await ds.query(`${SELECT} WHERE r.project_id = $1 ORDER BY ${newestFirst('r')} LIMIT $2 OFFSET $3`, [
    projectId,
    page.pageSize,
    (page.page - 1) * page.pageSize,
  ]);
  const health = await releaseHealth(
    ds,
    projectId,
    rows.map((r: { version: string }) => r.version),
  );
  return { count: n, rows: rows.map((r: Parameters<typeof summarize>[0]) => summarize(r, health.get(r.version)!)) };
}

export async function getRelease(ds: DataSource, projectId: number, version: string): Promise<ReleaseSummary> {
  const rows = await ds.query(`${SELECT} WHERE r.project_id = $1 AND r.version = $2`, [projectId, version]);
  if (!rows[0]) throw notFound('Release not found');
  const health = await releaseHealth(ds, projectId, [version]);
  return summarize(rows[0], health.get(version)!);
}

export async function createRelease(
  ds: DataSource,
  projectId: number,
  input: { version: string; dateReleased?: Date },
  userId: number,
): Promise<{ created: boolean; release: ReleaseSummary }> {
  const existed = await ds.getRepository(Release).existsBy({ projectId, version: input.version });
  await ensureRelease(ds, projectId, input.version, userId, input.dateReleased ?? null);
  return { created: !existed, release: await getRelease(ds, projectId, input.version) };
}

/**
 * Releases in the shape Sentry's web API answers (sentry-cli `releases new`, `finalize`,
 * `info`): one Faultline release per project, presented as one release across them.
 */
import type { DataSource } from 'typeorm';
import { notFound } from '../errors.ts';
import { ensureRelease } from './manage.ts';

interface Proj {
  id: number;
  slug: string;
  name: string;
}

export async function sentryRelease(ds: DataSource, projects: Proj[], version: string) {
  const rows: Array<{ project_id: number; created_at: Date; date_released: Date | null; last_seen: Date | null; new_groups: number }> =
    await ds.query(
      `SELECT r.project_id, r.created_at, r.date_released, r.last_seen,
            (SELECT count(*)::int FROM issues i WHERE i.project_id = r.project_id AND i.first_release = r.version) AS new_groups
       FROM releases r WHERE r.project_id = ANY($1::int[]) AND r.version = $2`,
      [projects.map((p) => p.id), version],
    );
  if (!rows.length) throw notFound('Release not found');
  const min = (ds: Array<Date | null>) => ds.filter((d): d is Date => Boolean(d)).sort((a, b) => a.getTime() - b.getTime())[0] ?? null;
  const max = (ds: Array<Date | null>) => ds.filter((d): d is Date => Boolean(d)).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
  return {
    version,
    url: null,
    dateCreated: min(rows.map((r) => r.created_at))!.toISOString(),
    dateReleased: max(rows.map((r) => r.date_released))?.toISOString() ?? null,
    lastEvent: max(rows.map((r) => r.last_seen))?.toISOString() ?? null,
    newGroups: rows.reduce((n, r) => n + r.new_groups, 0),
    projects: projects.filter((p) => rows.some((r) => r.project_id === p.id)).map((p) => ({ slug: p.slug, name: p.name })),
  };
}

export async function createSentryRelease(ds: DataSource, projects: Proj[], version: string, dateReleased: Date | null, userId: number) {
  const existing: unknown[] = await ds.query(`SELECT 1 FROM releases WHERE project_id = ANY($1::int[]) AND version = $2`, [
    projects.map((p) => p.id),
    version,
  ]);
  for (const p of projects) await ensureRelease(ds, p.id, version, userId, dateReleased);
  return { created: existing.length < projects.length, release: await sentryRelease(ds, projects, version) };
}

export async function updateSentryRelease(ds: DataSource, projects: Proj[], version: string, dateReleased: Date | null | undefined) {
  const release = await sentryRelease(ds, projects, version); // 404 when it is in none of them
  if (dateReleased !== undefined) {
    await ds.query(`UPDATE releases SET date_released = $3 WHERE project_id = ANY($1::int[]) AND version = $2`, [
      projects.map((p) => p.id),
      version,
      dateReleased,
    ]);
    return sentryRelease(ds, projects, version);
  }
  return release;
}

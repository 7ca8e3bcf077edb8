import type { Sql } from '../../db/sql.ts';
import { ensureVersions } from '../releases/releases.ts';
import type { SessionMark } from './normalize.ts';

/**
 * One statement per batch: the marks not counted before (session_marks, unique per
 * session and mark) are added to the hourly aggregates per release and environment, and
 * every user seen is upserted with whether any of their sessions crashed. Re-running a
 * batch adds nothing: its marks are already there.
 */
const STORE = `
  WITH s AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                         $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[])
      AS s(project_id, sid, mark, release, environment, bucket, started, errored, crashed, abnormal, did)
  ), marked AS (
    INSERT INTO session_marks (project_id, sid, mark)
    SELECT DISTINCT project_id, sid, mark FROM s
    ON CONFLICT DO NOTHING
    RETURNING project_id, sid, mark
  ), counted AS (
    INSERT INTO release_sessions AS r (project_id, release, environment, bucket, started, errored, crashed, abnormal)
    SELECT s.project_id, s.release, s.environment, s.bucket, sum(s.started), sum(s.errored), sum(s.crashed), sum(s.abnormal)
      FROM s JOIN marked m USING (project_id, sid, mark)
     GROUP BY s.project_id, s.release, s.environment, s.bucket
    ON CONFLICT (project_id, release, environment, bucket) DO UPDATE SET
      started = r.started + EXCLUDED.started, errored = r.errored + EXCLUDED.errored,
      crashed = r.crashed + EXCLUDED.crashed, abnormal = r.abnormal + EXCLUDED.abnormal
  )
  INSERT INTO release_session_users AS u (project_id, release, environment, did, crashed, errored)
  SELECT project_id, release, environment, did, bool_or(crashed > 0), bool_or(errored > 0)
    FROM s WHERE did IS NOT NULL GROUP BY project_id, release, environment, did
  ON CONFLICT (project_id, release, environment, did) DO UPDATE SET
    crashed = u.crashed OR EXCLUDED.crashed, errored = u.errored OR EXCLUDED.errored`;

export async function storeSessionMarks(sql: Sql, marks: SessionMark[]): Promise<void> {
  if (!marks.length) return;
  // The releases they name exist, with their semver parts (regressions and lists order by them).
  await ensureVersions(
    sql,
    marks.map((m) => ({ projectId: m.project_id, version: m.release })),
  );
  // Sorted: concurrent workers take the aggregate rows' locks in one order.
  const rows = [...marks].sort(
    (a, b) =>
      a.project_id - b.project_id ||
      cmp(a.release, b.release) ||
      cmp(a.environment, b.environment) ||
      cmp(a.bucket, b.bucket) ||
      cmp(a.sid, b.sid),
  );
  const col = <K extends keyof SessionMark>(k: K) => rows.map((r) => r[k]);
  await sql.query(STORE, [
    col('project_id'),
    col('sid'),
    col('mark'),
    col('release'),
    col('environment'),
    col('bucket'),
    col('started'),
    col('errored'),
    col('crashed'),
    col('abnormal'),
    col('did'),
  ]);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

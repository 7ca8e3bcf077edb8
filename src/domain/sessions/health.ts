import type { DataSource } from 'typeorm';

/** Crash-free rates of a release: null when no session (or no user) was seen. */
export interface ReleaseHealth {
  sessions: number;
  sessions_errored: number;
  sessions_crashed: number;
  sessions_abnormal: number;
  crash_free_sessions: number | null;
  users: number;
  users_crashed: number;
  crash_free_users: number | null;
  /** The same, per environment. */
  environments: Record<string, Omit<ReleaseHealth, 'environments'>>;
}

const rate = (bad: number, total: number) => (total > 0 ? Math.round((1 - bad / total) * 1e6) / 1e4 : null);

function empty(): Omit<ReleaseHealth, 'environments'> {
  return {
    sessions: 0,
    sessions_errored: 0,
    sessions_crashed: 0,
    sessions_abnormal: 0,
    crash_free_sessions: null,
    users: 0,
    users_crashed: 0,
    crash_free_users: null,
  };
}

/** Release health per version (and environment), as percentages: 99.5 means 99.5 % crash-free. */
export async function releaseHealth(
  ds: DataSource,
  projectId: number,
  versions: string[],
  environment?: string,
): Promise<Map<string, ReleaseHealth>> {
  const out = new Map<string, ReleaseHealth>(versions.map((v) => [v, { ...empty(), environments: {} }]));
  if (!versions.length) return out;
  const envClause = environment !== undefined ? 'AND environment = $3' : '';
  const params: unknown[] = [projectId, versions, ...(environment !== undefined ? [environment] : [])];
  const sessions: Array<{ release: string; environment: string; started: string; errored: string; crashed: string; abnormal: string }> =
    await ds.query(
      `SELECT release, environment, sum(started) AS started, sum(errored) AS errored, sum(crashed) AS crashed, sum(abnormal) AS abnormal
       FROM release_sessions WHERE project_id = $1 AND release = ANY($2::text[]) ${envClause} GROUP BY release, environment`,
      params,
    );
  const users: Array<{ release: string; environment: string; users: number; crashed: number }> = await ds.query(
    `SELECT release, environment, count(*)::int AS users, count(*) FILTER (WHERE crashed)::int AS crashed
       FROM release_session_users WHERE project_id = $1 AND release = ANY($2::text[]) ${envClause} GROUP BY release, environment`,
    params,
  );
  const env = (h: ReleaseHealth, e: string) => (h.environments[e || '(none)'] ??= empty());
  for (const s of sessions) {
    const h = out.get(s.release)!;
    for (const t of [h, env(h, s.environment)]) {
      t.sessions += Number(s.started);
      t.sessions_errored += Number(s.errored);
      t.sessions_crashed += Number(s.crashed);
      t.sessions_abnormal += Number(s.abnormal);
    }
  }
  // Per environment here; the release's own total counts each user once across environments (below).
  for (const u of users) {
    const t = env(out.get(u.release)!, u.environment);
    t.users += u.users;
    t.users_crashed += u.crashed;
  }
  const totals: Array<{ release: string; users: number; crashed: number }> = await ds.query(
    `SELECT release, count(DISTINCT did)::int AS users, count(DISTINCT did) FILTER (WHERE crashed)::int AS crashed
       FROM release_session_users WHERE project_id = $1 AND release = ANY($2::text[]) ${envClause} GROUP BY release`,
    params,
  );
  for (const t of totals) {
    const h = out.get(t.release)!;
    h.users = t.users;
    h.users_crashed = t.crashed;
  }
  for (const h of out.values()) {
    for (const t of [h, ...Object.values(h.environments)]) {
      t.crash_free_sessions = rate(t.sessions_crashed, t.sessions);
      t.crash_free_users = rate(t.users_crashed, t.users);
    }
  }
  return out;
}

import type { DataSource } from 'typeorm';
import { LEVELS, type Level } from '../levels.ts';
import { logStats } from '../logs/stats.ts';
import { scopeClause, type Access, type Actor } from '../access/index.ts';

export const STATS_DAYS = 30;

interface CountRow {
  kind: 'error' | 'log';
  level: Level;
  day: string;
  n: number;
}

function emptyLevels(): Record<Level, number> {
  return Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
}

/**
 * DataIdea's /api/user/stats/: what landed in the caller's projects (owned or joined)
 * over the last 30 days — error events and logs by level and by day (one grouped query
 * over the (project_id, kind, timestamp) index), logs by severity and source, and LLM
 * calls, tokens and latency by model.
 */
export async function userStats(ds: DataSource, access: Access, actor: Actor) {
  // The caller's own projects (owned or joined) — for staff too: these are *your* stats.
  const own = await access.scopeFor({ id: actor.id, isStaff: false }, 'view');
  const ids = own.all ? [] : own.projectIds;

  const rows: CountRow[] = ids.length
    ? await ds.query(
        `SELECT kind, level, to_char(date_trunc('day', "timestamp" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS n
           FROM events
          WHERE project_id = ANY($1::int[]) AND "timestamp" >= now() - make_interval(days => $2)
          GROUP BY 1, 2, 3`,
        [ids, STATS_DAYS],
      )
    : [];

  const section = (kind: CountRow['kind']) => {
    const byLevel = emptyLevels();
    const byDay = new Map<string, number>();
    let total = 0;
    for (const r of rows.filter((x) => x.kind === kind)) {
      total += r.n;
      byLevel[r.level] += r.n;
      byDay.set(r.day, (byDay.get(r.day) ?? 0) + r.n);
    }
    return {
      total,
      by_level: byLevel,
      by_day: [...byDay].sort(([a], [b]) => a.localeCompare(b)).map(([date, count]) => ({ date, count })),
    };
  };

  // Logs by severity and source, and LLM usage by model (src/domain/logs/stats.ts).
  const more = await logStats(ds, { all: false, projectIds: ids }, { days: STATS_DAYS });
  return {
    ...(await allTimeTotals(ds, access, actor, ids)),
    period_days: STATS_DAYS,
    projects: ids.length,
    events: section('error'),
    logs: { ...section('log'), by_severity: more.logs.by_severity, by_source: more.logs.by_source },
    llm: more.llm,
  };
}

/**
 * The keys DataIdea's own /api/user/stats/ answered, which its dashboard reads: all-time
 * totals of event logs and LLM logs, event logs by level, and the keys still active
 * (those the caller manages, as GET /api/apikeys/ lists them). Index-only counts over
 * (project_id, level) and (project_id, model).
 */
async function allTimeTotals(ds: DataSource, access: Access, actor: Actor, ids: number[]) {
  const logsByLevel = emptyLevels();
  let totalEventLogs = 0;
  let totalLlmLogs = 0;
  if (ids.length) {
    const [levels, [llm]]: [Array<{ level: Level; n: number }>, Array<{ n: number }>] = await Promise.all([
      ds.query(`SELECT level, count(*)::int AS n FROM events WHERE project_id = ANY($1::int[]) AND kind = 'log' GROUP BY level`, [ids]),
      ds.query(`SELECT count(*)::int AS n FROM llm_logs WHERE project_id = ANY($1::int[])`, [ids]),
    ]);
    for (const r of levels) {
      logsByLevel[r.level] = r.n;
      totalEventLogs += r.n;
    }
    totalLlmLogs = llm.n;
  }
  const params: unknown[] = [];
  const inScope = scopeClause(await access.scopeFor(actor, 'manage_keys'), params) ?? 'true';
  const [keys]: Array<{ n: number }> = await ds.query(
    `SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL AND ${inScope}`,
    params,
  );
  return { total_event_logs: totalEventLogs, total_llm_logs: totalLlmLogs, logs_by_level: logsByLevel, api_keys_count: keys.n };
}

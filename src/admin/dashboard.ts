import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { LEVELS } from '../domain/levels.ts';
import { scopeClause, type Scope } from '../domain/access/index.ts';
import type { QueueName } from '../queues/contract.ts';
import { queueStats } from '../queues/health.ts';
import type { AdminUser } from './session.ts';
import type { RedisClient } from '../queues/connection.ts';
import { config } from '../config.ts';
import { refusedToday, storageFacts } from '../domain/quotas/index.ts';
import { dataVolumes } from '../api/routes/ops/ops.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TOP = 8;

type Series = Array<{ t: string; values: Record<string, number> }>;

/** Buckets from `since` to now, every `step`, each with a zero for every key: charts need the empty hours too. */
function buckets(
  since: number,
  step: number,
  count: number,
  keys: readonly string[],
  rows: Array<{ t: Date; k: string; n: string }>,
): Series {
  const start = Math.floor(since / step) * step;
  const series: Series = Array.from({ length: count }, (_, i) => ({
    t: new Date(start + (i + 1) * step).toISOString(),
    values: Object.fromEntries(keys.map((k) => [k, 0])),
  }));
  for (const r of rows) {
    const i = Math.round((new Date(r.t).getTime() - start) / step) - 1;
    if (series[i]) series[i].values[r.k] = (series[i].values[r.k] ?? 0) + Number(r.n);
  }
  return series;
}

/**
 * What the dashboard draws, over the projects the admin may see (staff: all): error
 * events per hour over 24 h by level, logs per day over 14 days by severity, LLM calls
 * and tokens by model over 30 days, crash dumps per day over 30 days, the busiest issues
 * and log sources of the last 24 h, and queue health. Each query is a grouped scan of a
 * time range on a (project, kind, timestamp) index.
 */
export async function dashboardData(ds: DataSource, queues: Record<QueueName, Queue>, admin: AdminUser, redis?: RedisClient) {
  const scope: Scope = admin.isStaff ? { all: true } : { all: false, projectIds: Object.keys(admin.roles).map(Number) };
  const none = !scope.all && scope.projectIds.length === 0;
  const now = Date.now();
  const since = { day: new Date(now - DAY), twoWeeks: new Date(now - 14 * DAY), month: new Date(now - 30 * DAY) };

  const q = async <T>(sql: (where: string) => string, from: Date, column = 'project_id'): Promise<T[]> => {
    if (none) return [];
    const params: unknown[] = [from];
    const s = scopeClause(scope, params, column);
    return ds.query(sql(s ? ` AND ${s}` : ''), params);
  };

  const [errorsByHour, logsByDay, llmByModel, dumpsByDay, topIssues, topSources, queueHealth] = await Promise.all([
    q<{ t: Date; k: string; n: string }>(
      (w) => `SELECT date_trunc('hour', "timestamp") + interval '1 hour' AS t, level AS k, count(*) AS n
                FROM events WHERE kind = 'error' AND "timestamp" >= $1${w} GROUP BY 1, 2`,
      since.day,
    ),
    q<{ t: Date; k: string; n: string }>(
      (w) => `SELECT date_trunc('day', "timestamp" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day' AS t, level AS k, count(*) AS n
                FROM events WHERE kind = 'log' AND "timestamp" >= $1${w} GROUP BY 1, 2`,
      since.twoWeeks,
    ),
    q<{ model: string | null; calls: string; tokens: string }>(
      (w) => `SELECT model, count(*) AS calls, coalesce(sum(total_tokens), 0) AS tokens
                FROM llm_logs WHERE "timestamp" >= $1${w} GROUP BY model ORDER BY calls DESC LIMIT ${TOP}`,
      since.month,
    ),
    q<{ t: Date; k: string; n: string }>(
      (w) => `SELECT date_trunc('day', "time" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 day' AS t, 'dumps' AS k, count(*) AS n
                FROM crash_dumps WHERE "time" >= $1${w} GROUP BY 1`,
      since.month,
    ),
    q<{ id: string; title: string; level: string; status: string; n: string }>(
      (w) => `SELECT i.id, i.title, i.level, i.status, e.n FROM (
                SELECT issue_id, count(*) AS n FROM events
                 WHERE kind = 'error' AND issue_id IS NOT NULL AND "timestamp" >= $1${w}
                 GROUP BY issue_id ORDER BY n DESC LIMIT ${TOP}) e
              JOIN issues i ON i.id = e.issue_id ORDER BY e.n DESC`,
      since.day,
    ),
    q<{ service: string | null; n: string }>(
      (w) => `SELECT service, count(*) AS n FROM events WHERE kind = 'log' AND "timestamp" >= $1${w}
               GROUP BY service ORDER BY n DESC LIMIT ${TOP}`,
      since.day,
    ),
    queueStats(queues).catch(() => []), // Redis away: the charts still draw
  ]);
  // Quotas: what was refused today in the projects the admin sees; storage: staff only (it is the whole instance).
  const visible = (p: number) => scope.all || scope.projectIds.includes(p);
  const refused = redis ? (await refusedToday(redis, config.queuePrefix).catch(() => [])).filter((r) => visible(r.project_id)) : [];
  const storage = admin.isStaff ? await storageFacts(ds, dataVolumes()) : null;

  return {
    generatedAt: new Date(now).toISOString(),
    isStaff: admin.isStaff,
    projects: scope.all ? null : scope.projectIds.length,
    levels: LEVELS,
    errorsByHour: buckets(since.day.getTime(), HOUR, 25, LEVELS, errorsByHour),
    logsByDay: buckets(since.twoWeeks.getTime(), DAY, 15, LEVELS, logsByDay),
    dumpsByDay: buckets(since.month.getTime(), DAY, 31, ['dumps'], dumpsByDay),
    llmByModel: llmByModel.map((r) => ({ model: r.model ?? '(none)', calls: Number(r.calls), tokens: Number(r.tokens) })),
    topIssues: topIssues.map((r) => ({ id: r.id, title: r.title, level: r.level, status: r.status, count: Number(r.n) })),
    topSources: topSources.map((r) => ({ source: r.service ?? '(none)', count: Number(r.n) })),
    refused,
    storage,
    queues: queueHealth.map((s) => ({ queue: s.queue, ...s.counts, lagSeconds: Math.round(s.lagSeconds * 10) / 10 })),
  };
}

export type DashboardData = Awaited<ReturnType<typeof dashboardData>>;

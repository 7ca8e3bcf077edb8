import type { DataSource } from 'typeorm';
import { LEVELS } from '../levels.ts';
import { scopeClause, type Scope } from '../access/index.ts';

/**
 * Log and LLM usage figures for `GET /api/user/stats/` (DataIdea), over the projects in
 * `scope` and the last `days` days. Exported for the stats endpoint to merge into its
 * answer; severity names are the logs dashboard's (UPPERCASE).
 */
export interface LogStats {
  since: string;
  logs: {
    total: number;
    by_severity: Record<string, number>;
    by_source: Array<{ source: string | null; count: number }>;
    by_day: Array<{ date: string; count: number }>;
  };
  llm: {
    calls: number;
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    mean_latency_ms: number | null;
    by_model: Array<{ model: string | null; calls: number; total_tokens: number; mean_latency_ms: number | null }>;
  };
}

const TOP_SOURCES = 20;
const num = (v: unknown) => Number(v ?? 0);
const meanOrNull = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100);

export async function logStats(ds: DataSource, scope: Scope, opts: { days?: number; now?: Date } = {}): Promise<LogStats> {
  const days = opts.days ?? 30;
  const since = new Date((opts.now ?? new Date()).getTime() - days * 86_400_000);
  const empty = !scope.all && scope.projectIds.length === 0;

  const params: unknown[] = [since];
  const s = scopeClause(scope, params);
  const logs = `kind = 'log' AND "timestamp" >= $1${s ? ` AND ${s}` : ''}${empty ? ' AND false' : ''}`;
  const llm = `"timestamp" >= $1${s ? ` AND ${s}` : ''}${empty ? ' AND false' : ''}`;

  const [bySeverity, bySource, byDay, llmTotals, byModel] = await Promise.all([
    ds.query(`SELECT level, count(*) AS n FROM events WHERE ${logs} GROUP BY level`, params) as Promise<
      Array<{ level: string; n: string }>
    >,
    ds.query(
      `SELECT service, count(*) AS n FROM events WHERE ${logs} GROUP BY service ORDER BY n DESC, service LIMIT ${TOP_SOURCES}`,
      params,
    ) as Promise<Array<{ service: string | null; n: string }>>,
    ds.query(
      `SELECT to_char(date_trunc('day', "timestamp" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*) AS n
         FROM events WHERE ${logs} GROUP BY 1 ORDER BY 1`,
      params,
    ) as Promise<Array<{ day: string; n: string }>>,
    ds.query(
      `SELECT count(*) AS calls, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion, sum(total_tokens) AS total,
              avg(latency_ms) AS latency
         FROM llm_logs WHERE ${llm}`,
      params,
    ) as Promise<Array<{ calls: string; prompt: string | null; completion: string | null; total: string | null; latency: number | null }>>,
    ds.query(
      `SELECT model, count(*) AS calls, coalesce(sum(total_tokens), 0) AS total, avg(latency_ms) AS latency
         FROM llm_logs WHERE ${llm} GROUP BY model ORDER BY calls DESC, model`,
      params,
    ) as Promise<Array<{ model: string | null; calls: string; total: string; latency: number | null }>>,
  ]);

  const severity = Object.fromEntries(LEVELS.map((l) => [l.toUpperCase(), 0]));
  for (const r of bySeverity) severity[r.level.toUpperCase()] = num(r.n);
  const t = llmTotals[0];
  return {
    since: since.toISOString(),
    logs: {
      total: Object.values(severity).reduce((a, b) => a + b, 0),
      by_severity: severity,
      by_source: bySource.map((r) => ({ source: r.service, count: num(r.n) })),
      by_day: byDay.map((r) => ({ date: r.day, count: num(r.n) })),
    },
    llm: {
      calls: num(t?.calls),
      prompt_tokens: num(t?.prompt),
      completion_tokens: num(t?.completion),
      total_tokens: num(t?.total),
      mean_latency_ms: meanOrNull(t?.latency),
      by_model: byModel.map((r) => ({
        model: r.model,
        calls: num(r.calls),
        total_tokens: num(r.total),
        mean_latency_ms: meanOrNull(r.latency),
      })),
    },
  };
}

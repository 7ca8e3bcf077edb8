import type { DataSource } from 'typeorm';
import { scopeClause, type Scope } from '../access/scope.ts';

export interface LlmStatsRow {
  model: string | null;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  /** US dollars, summed over the calls that have a cost. */
  cost: number;
  /** Calls without a price (unknown model or tokens): their cost is not in `cost`. */
  unpriced_calls: number;
  errors: number;
  error_share: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
}

export interface LlmStats {
  from: string;
  to: string;
  by_model: LlmStatsRow[];
  by_day: Array<LlmStatsRow & { date: string }>;
}

interface Raw {
  day?: string;
  model: string | null;
  calls: string;
  prompt: string | null;
  completion: string | null;
  total: string | null;
  cached: string | null;
  cost: number | null;
  unpriced: string;
  errors: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const n = (v: unknown) => Number(v ?? 0);
const ms = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
const row = (r: Raw): LlmStatsRow => ({
  model: r.model,
  calls: n(r.calls),
  prompt_tokens: n(r.prompt),
  completion_tokens: n(r.completion),
  total_tokens: n(r.total),
  cached_tokens: n(r.cached),
  cost: Math.round(n(r.cost) * 1e6) / 1e6,
  unpriced_calls: n(r.unpriced),
  errors: n(r.errors),
  error_share: n(r.calls) ? Math.round((n(r.errors) / n(r.calls)) * 10_000) / 10_000 : 0,
  latency_p50_ms: ms(r.p50),
  latency_p95_ms: ms(r.p95),
  latency_p99_ms: ms(r.p99),
});

const AGGREGATES = `count(*) AS calls, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion,
  sum(coalesce(total_tokens, prompt_tokens + completion_tokens)) AS total, sum(cached_tokens) AS cached,
  sum(cost) AS cost, count(*) FILTER (WHERE cost IS NULL) AS unpriced, count(*) FILTER (WHERE error IS NOT NULL) AS errors,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99`;

/** LLM usage by model, and by UTC day and model, over [from, to): calls, tokens, cost, error share, latency percentiles. */
export async function llmStats(ds: DataSource, scope: Scope, opts: { from: Date; to: Date; model?: string }): Promise<LlmStats> {
  const params: unknown[] = [opts.from, opts.to];
  const clauses = [`"timestamp" >= $1`, `"timestamp" < $2`];
  const s = scopeClause(scope, params);
  if (s) clauses.push(s);
  if (opts.model) {
    params.push(opts.model);
    clauses.push(`model = $${params.length}`);
  }
  const where = clauses.join(' AND ');
  const [byModel, byDay] = await Promise.all([
    ds.query(`SELECT model, ${AGGREGATES} FROM llm_logs WHERE ${where} GROUP BY model ORDER BY calls DESC, model`, params) as Promise<
      Raw[]
    >,
    ds.query(
      `SELECT to_char(date_trunc('day', "timestamp" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, model, ${AGGREGATES}
         FROM llm_logs WHERE ${where} GROUP BY 1, model ORDER BY 1 DESC, calls DESC, model`,
      params,
    ) as Promise<Raw[]>,
  ]);
  return {
    from: opts.from.toISOString(),
    to: opts.to.toISOString(),
    by_model: byModel.map(row),
    by_day: byDay.map((r) => ({ date: r.day!, ...row(r) })),
  };
}

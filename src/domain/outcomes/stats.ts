import type { DataSource } from 'typeorm';
import { outcomes } from './recorder.ts';

export interface OutcomeStatsQuery {
  projectId: number;
  since: Date;
  until: Date;
  interval: 'hour' | 'day';
  category?: string;
  outcome?: string;
}

const STEP = { hour: 3_600_000, day: 86_400_000 } as const;
/** The most buckets one answer holds (92 days by hour, ~5 years by day). */
export const MAX_INTERVALS = 2208;

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/** The bucket boundaries a query covers: since floored, until rounded up to the interval (UTC). */
export function bucketsOf(q: Pick<OutcomeStatsQuery, 'since' | 'until' | 'interval'>): number[] {
  const step = STEP[q.interval];
  const start = floorTo(q.since.getTime(), step);
  const end = Math.max(ceilTo(q.until.getTime(), step), start + step);
  const out: number[] = [];
  for (let t = start; t < end; t += step) out.push(t);
  return out;
}

interface Row {
  bucket: Date;
  category: string;
  outcome: string;
  reason: string;
  quantity: string;
}

/**
 * What happened to a project's data over a time range: per bucket, grouped by category,
 * outcome and reason, in the shape of Sentry's stats_v2 (`intervals`, `groups[].by`,
 * `groups[].totals["sum(quantity)"]`, `groups[].series["sum(quantity)"]`) plus plain
 * totals per outcome and per category. This process's pending counts are flushed first.
 */
export async function outcomeStats(ds: DataSource, q: OutcomeStatsQuery) {
  await outcomes.flush().catch(() => undefined); // a failed flush is retried later; the stored counts still answer
  const buckets = bucketsOf(q);
  const start = buckets[0];
  const end = buckets.at(-1)! + STEP[q.interval];
  const params: unknown[] = [q.projectId, new Date(start).toISOString(), new Date(end).toISOString(), q.interval];
  let where = '';
  if (q.category) {
    params.push(q.category);
    where += ` AND category = $${params.length}`;
  }
  if (q.outcome) {
    params.push(q.outcome);
    where += ` AND outcome = $${params.length}`;
  }
  const rows: Row[] = await ds.query(
    `SELECT date_trunc($4, hour, 'UTC') AS bucket, category, outcome, reason, sum(quantity)::text AS quantity
       FROM outcomes
      WHERE project_id = $1 AND hour >= $2 AND hour < $3${where}
      GROUP BY 1, 2, 3, 4
      ORDER BY 2, 3, 4`,
    params,
  );
  const index = new Map(buckets.map((t, i) => [t, i]));
  const groups = new Map<
    string,
    {
      by: { category: string; outcome: string; reason: string };
      totals: { 'sum(quantity)': number };
      series: { 'sum(quantity)': number[] };
    }
  >();
  const byOutcome: Record<string, number> = {};
  const byCategory: Record<string, number> = {};
  let total = 0;
  for (const r of rows) {
    const key = `${r.category}\u0000${r.outcome}\u0000${r.reason}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        by: { category: r.category, outcome: r.outcome, reason: r.reason },
        totals: { 'sum(quantity)': 0 },
        series: { 'sum(quantity)': buckets.map(() => 0) },
      };
      groups.set(key, g);
    }
    const n = Number(r.quantity);
    const i = index.get(new Date(r.bucket).getTime());
    if (i !== undefined) g.series['sum(quantity)'][i] += n;
    g.totals['sum(quantity)'] += n;
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + n;
    byCategory[r.category] = (byCategory[r.category] ?? 0) + n;
    total += n;
  }
  return {
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    interval: q.interval === 'hour' ? '1h' : '1d',
    intervals: buckets.map((t) => new Date(t).toISOString()),
    totals: { quantity: total, by_outcome: byOutcome, by_category: byCategory },
    groups: [...groups.values()],
  };
}

import type { DataSource } from 'typeorm';
import { WINDOWED_TRIGGERS, type LlmMetric } from './definitions.ts';
import { binUpper, paramsOf, type WindowCounters } from './counters.ts';
import { recordFiring, RULE_COLUMNS, type RuleRow } from './firings.ts';
import type { Outgoing } from './jobs.ts';
import { links } from './links.ts';
import type { FiringPayload } from './messages.ts';
import { inTransaction } from './tx.ts';
import type { AlertJobs } from './jobs.ts';

/**
 * Evaluating windowed rules (issue.frequency, events.threshold, llm.threshold) against
 * their counters (src/domain/alerts/counters.ts): the evaluate-alerts job's main part.
 */

/** The value a rule compares with its threshold, for one subject's totals (null: not enough calls to say). */
export function valueOf(rule: RuleRow, totals: Record<string, number>): number | null {
  // Counts are whole (the oldest bucket is weighted, see read()).
  if (rule.trigger !== 'llm.threshold') return Math.round(totals.n ?? 0);
  const p = paramsOf(rule);
  const n = Math.round(totals.n ?? 0);
  switch (p.metric) {
    case 'tokens':
      return Math.round(totals.t ?? 0);
    case 'cost':
      return Math.round((totals.c ?? 0) * 1e6) / 1e6;
    case 'error_rate':
      return n >= (p.min_calls ?? 10) ? Math.round(((totals.e ?? 0) / (totals.n ?? 1)) * 1e4) / 1e4 : null;
    case 'p95_latency_ms': {
      const bins = Object.entries(totals)
        .filter(([k]) => k.startsWith('l'))
        .map(([k, c]) => [Number(k.slice(1)), c] as const)
        .sort((a, b) => a[0] - b[0]);
      const timed = bins.reduce((s, [, c]) => s + c, 0);
      if (Math.round(timed) < (p.min_calls ?? 10)) return null;
      let seen = 0;
      for (const [bin, c] of bins) {
        seen += c;
        if (seen >= 0.95 * timed) return Math.round(binUpper(bin));
      }
      return null;
    }
    default:
      return null;
  }
}

interface StateRow {
  rule_id: number;
  subject: string;
  since: Date;
  firing_id: string | null;
  firing_status: string | null;
}

const METRIC_LABEL: Record<LlmMetric, string> = { error_rate: 'error rate', p95_latency_ms: 'p95 latency', tokens: 'tokens', cost: 'cost' };
const fmt = (rule: RuleRow, v: number) =>
  rule.trigger === 'llm.threshold' && paramsOf(rule).metric === 'error_rate'
    ? `${(v * 100).toFixed(1)}%`
    : rule.trigger === 'llm.threshold' && paramsOf(rule).metric === 'p95_latency_ms'
      ? `${v} ms`
      : String(Math.round(v * 100) / 100);

async function payloadFor(
  ds: DataSource,
  rule: RuleRow,
  subject: string,
  value: number,
  kind: 'firing' | 'recovered',
  totals: Record<string, number>,
): Promise<FiringPayload> {
  const p = paramsOf(rule);
  const window = `${p.window_minutes} min`;
  const facts = [
    { label: 'Value', value: fmt(rule, value) },
    { label: 'Threshold', value: fmt(rule, p.threshold) },
    { label: 'Window', value: window },
  ];
  if (rule.trigger === 'issue.frequency') {
    const [issue]: Array<{ id: string; title: string; culprit: string | null; level: string; status: string; times_seen: string }> =
      await ds.query(`SELECT id, title, culprit, level, status, times_seen FROM issues WHERE id = $1 AND project_id = $2`, [
        subject,
        rule.project_id,
      ]);
    const url = links.issue(subject);
    const title = issue?.title ?? `issue ${subject}`;
    return {
      title: kind === 'firing' ? `Issue seen ${value} times in ${window}: ${title}` : `Back under ${p.threshold} in ${window}: ${title}`,
      text:
        kind === 'firing'
          ? `“${rule.name}”: ${value} events in the last ${window} (threshold ${p.threshold}).`
          : `“${rule.name}”: ${value} events in the last ${window}, under ${p.threshold} again.`,
      url,
      level: issue?.level ?? null,
      facts,
      issue: issue
        ? {
            id: issue.id,
            title: issue.title,
            culprit: issue.culprit,
            level: issue.level,
            status: issue.status,
            times_seen: Number(issue.times_seen),
            url,
          }
        : undefined,
    };
  }
  if (rule.trigger === 'events.threshold') {
    const f = rule.filters;
    const what = p.kind === 'error' ? 'errors' : p.kind === 'log' ? 'logs' : 'events';
    const url = links.logSearch(rule.project_id, {
      kind: p.kind === 'any' ? undefined : p.kind,
      level: f.min_level,
      environment: f.environments?.length === 1 ? f.environments[0] : undefined,
      service: f.services?.length === 1 ? f.services[0] : undefined,
      message: f.search,
    });
    return {
      title: kind === 'firing' ? `${rule.name}: ${value} ${what} in ${window}` : `Recovered — ${rule.name}: ${value} ${what} in ${window}`,
      text:
        kind === 'firing'
          ? `${value} matching ${what} in the last ${window}, at or over the threshold of ${p.threshold}.`
          : `Back under the threshold of ${p.threshold}: ${value} in the last ${window}.`,
      url,
      level: f.min_level ?? null,
      facts,
    };
  }
  const model = subject === '_' ? (p.model ?? null) : subject;
  const label = METRIC_LABEL[p.metric!];
  return {
    title:
      kind === 'firing'
        ? `${rule.name}: LLM ${label} ${fmt(rule, value)}${model ? ` (${model})` : ''} in ${window}`
        : `Recovered — ${rule.name}: LLM ${label} ${fmt(rule, value)}${model ? ` (${model})` : ''}`,
    text:
      kind === 'firing'
        ? `LLM ${label} over the last ${window} is ${fmt(rule, value)}; the threshold is ${fmt(rule, p.threshold)}.`
        : `LLM ${label} is back under ${fmt(rule, p.threshold)}: ${fmt(rule, value)} over the last ${window}.`,
    url: links.llmLogs(rule.project_id, model ?? undefined),
    facts: [...facts, { label: 'Calls', value: String(totals.n ?? 0) }, ...(model ? [{ label: 'Model', value: model }] : [])],
    llm: { metric: p.metric!, model, calls: totals.n ?? 0 },
  };
}

/**
 * One evaluation of every windowed rule as of `now`: a subject at or over its threshold
 * that was not firing fires (once: its state row says it is firing until it recovers); a firing subject
 * back under it sends "recovered" (quietly, when its firing was itself not sent: snoozed,
 * suppressed by the cooldown). Per rule, the state and the firings change in one
 * transaction under the rule's lock, so overlapping runs agree.
 */
export async function evaluateWindows(
  ds: DataSource,
  counters: WindowCounters,
  jobs: AlertJobs,
  now: Date,
): Promise<{ fired: number; recovered: number }> {
  const rules: RuleRow[] = await ds.query(
    `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE enabled AND trigger = ANY($1::text[]) ORDER BY id`,
    [WINDOWED_TRIGGERS],
  );
  if (!rules.length) return { fired: 0, recovered: 0 };
  const totals = await counters.read(rules, now.getTime());
  const states: StateRow[] = await ds.query(
    `SELECT s.rule_id, s.subject, s.since, s.firing_id, f.status AS firing_status
       FROM alert_rule_states s LEFT JOIN alert_firings f ON f.id = s.firing_id WHERE s.rule_id = ANY($1::int[])`,
    [rules.map((r) => r.id)],
  );
  const stateOf = new Map(states.map((s) => [`${s.rule_id}:${s.subject}`, s]));
  let fired = 0;
  let recovered = 0;
  for (const rule of rules) {
    const p = paramsOf(rule);
    const subjects = totals.get(rule.id) ?? new Map();
    const changes: Array<{
      subject: string;
      kind: 'firing' | 'recovered';
      value: number;
      totals: Record<string, number>;
      state?: StateRow;
    }> = [];
    for (const [subject, t] of subjects) {
      const v = valueOf(rule, t);
      if (v !== null && v >= p.threshold && !stateOf.has(`${rule.id}:${subject}`))
        changes.push({ subject, kind: 'firing', value: v, totals: t });
    }
    for (const s of states) {
      if (s.rule_id !== rule.id) continue;
      const t = subjects.get(s.subject) ?? {};
      const v = valueOf(rule, t) ?? 0;
      if (v < p.threshold) changes.push({ subject: s.subject, kind: 'recovered', value: v, totals: t, state: s });
    }
    if (!changes.length) continue;
    const out: Outgoing[] = [];
    const windowStart = new Date(now.getTime() - p.window_minutes * 60_000);
    const payloads = await Promise.all(changes.map((c) => payloadFor(ds, rule, c.subject, c.value, c.kind, c.totals)));
    await inTransaction(ds, async (q) => {
      await q.query(`SELECT pg_advisory_xact_lock(hashtext('faultline.alert_rule'), $1)`, [rule.id]);
      for (const [i, c] of changes.entries()) {
        // Re-read under the lock: another run may have moved this subject meanwhile.
        const { rows } = await q.query<{ since: Date; firing_id: string | null }>(
          `SELECT since, firing_id FROM alert_rule_states WHERE rule_id = $1 AND subject = $2`,
          [rule.id, c.subject],
        );
        if (c.kind === 'firing') {
          if (rows[0]) continue;
          const since = now.getTime();
          const r = await recordFiring(q, {
            projectId: rule.project_id,
            rule,
            trigger: rule.trigger,
            triggerKey: `${c.subject}:fire:${since}`,
            subject: c.subject,
            kind: 'firing',
            windowStart,
            windowEnd: now,
            value: c.value,
            threshold: p.threshold,
            payload: payloads[i],
            now,
          });
          await q.query(
            `INSERT INTO alert_rule_states (rule_id, subject, since, firing_id, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [rule.id, c.subject, now, r.firingId, c.value],
          );
          if (r.created) fired++;
          out.push(...r.outgoing);
        } else {
          if (!rows[0]) continue;
          const since = rows[0].since.getTime();
          const opened = rows[0].firing_id
            ? (await q.query<{ status: string }>(`SELECT status FROM alert_firings WHERE id = $1`, [rows[0].firing_id])).rows[0]
            : undefined;
          const r = await recordFiring(q, {
            projectId: rule.project_id,
            rule,
            trigger: rule.trigger,
            triggerKey: `${c.subject}:recover:${since}`,
            subject: c.subject,
            kind: 'recovered',
            windowStart,
            windowEnd: now,
            value: c.value,
            threshold: p.threshold,
            payload: payloads[i],
            quiet: !opened || !['notified', 'digested'].includes(opened.status),
            now,
          });
          await q.query(`DELETE FROM alert_rule_states WHERE rule_id = $1 AND subject = $2`, [rule.id, c.subject]);
          if (r.created) recovered++;
          out.push(...r.outgoing);
        }
      }
    });
    await jobs.deliver(out);
  }
  return { fired, recovered };
}

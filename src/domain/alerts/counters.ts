import type { RedisClient } from '../../queues/connection.ts';
import type { DataSource } from 'typeorm';
import type { EventRecord } from '../events/record.ts';
import type { LlmLogRecord } from '../logs/llmRecord.ts';
import { WINDOWED_TRIGGERS, type LlmMetric } from './definitions.ts';
import { filtersMatch } from './filters.ts';
import { RULE_COLUMNS, type RuleRow } from './firings.ts';

/**
 * Windowed rules (issue.frequency, events.threshold, llm.threshold) count in Redis, not
 * by scanning the events table: when the worker stores a batch, every new event (only
 * the ones the insert really added, so re-delivered jobs count nothing) is matched in
 * memory against the windowed rules of its project, and one HINCRBY per rule, bucket and
 * subject adds it up. Buckets are a minute long (a window over an hour uses M/60-minute
 * buckets, so no window reads more than ~60 of them); each expires after its window; a
 * window slides over them (see read()).
 * The evaluate-alerts job then reads each rule's buckets — cost per rule, independent of
 * how many events there are.
 *
 * Counting happens after the batch is committed; a worker that dies in between loses
 * that batch's counts (the events themselves are safe). Counted when stored: under a
 * queue backlog a window is about when events were stored, not when they happened.
 */
export interface BucketSpec {
  sizeMinutes: number;
  count: number;
}

export function bucketSpec(windowMinutes: number): BucketSpec {
  const sizeMinutes = Math.max(1, Math.ceil(windowMinutes / 60));
  return { sizeMinutes, count: Math.ceil(windowMinutes / sizeMinutes) };
}

const bucketKey = (prefix: string, ruleId: number, spec: BucketSpec, index: number) =>
  `${prefix}:alerts:{r${ruleId}}:${spec.sizeMinutes}:${index}`;
const bucketIndex = (spec: BucketSpec, ms: number) => Math.floor(ms / 60_000 / spec.sizeMinutes);

export interface WindowParams {
  threshold: number;
  window_minutes: number;
  kind?: 'error' | 'log' | 'any';
  metric?: LlmMetric;
  model?: string;
  per_model?: boolean;
  min_calls?: number;
}
export const paramsOf = (r: RuleRow) => r.params as unknown as WindowParams;

/** LLM latency histogram: quarter-octave bins (each ~19% wide), so a p95 is known within a bin. */
const latencyBin = (ms: number) => (ms <= 1 ? 0 : Math.ceil(Math.log2(ms) * 4));
export const binUpper = (bin: number) => 2 ** (bin / 4);

/** An LLM call counts as an error when its metadata says so, in any of the usual spellings. */
export function llmIsError(metadata: Record<string, unknown>): boolean {
  const status = typeof metadata.status === 'string' ? metadata.status.toLowerCase() : null;
  const code = Number(metadata.status_code ?? metadata.http_status);
  return (
    Boolean(metadata.error) ||
    metadata.is_error === true ||
    metadata.success === false ||
    status === 'error' ||
    status === 'failed' ||
    status === 'failure' ||
    (Number.isFinite(code) && code >= 400)
  );
}

/** Cost as the client reported it (metadata.cost, cost_usd or total_cost); a price table is the OpenTelemetry issue's. */
export function llmCost(metadata: Record<string, unknown>): number {
  for (const k of ['cost', 'cost_usd', 'total_cost']) {
    const v = Number(metadata[k]);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  return 0;
}

/** The windowed rules, by project, as the store path needs them: cached for ALERT_RULE_CACHE_MS. */
export class WindowRules {
  private byProject = new Map<number, RuleRow[]>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly ttlMs: number,
  ) {}

  /** The rules by project, as of at most ttlMs ago. */
  async snapshot(): Promise<ReadonlyMap<number, RuleRow[]>> {
    await this.fresh();
    return this.byProject;
  }

  private async fresh(): Promise<void> {
    if (Date.now() - this.loadedAt < this.ttlMs) return;
    this.loading ??= this.load().finally(() => (this.loading = null));
    await this.loading;
  }

  private async load(): Promise<void> {
    const rows: RuleRow[] = await this.ds.query(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE enabled AND trigger = ANY($1::text[])`, [
      WINDOWED_TRIGGERS,
    ]);
    const next = new Map<number, RuleRow[]>();
    for (const r of rows) next.set(r.project_id, [...(next.get(r.project_id) ?? []), r]);
    this.byProject = next;
    this.loadedAt = Date.now();
  }
}

type Increments = Map<string, Map<string, number>>; // key → field → amount

function add(incs: Increments, key: string, field: string, n: number) {
  let fields = incs.get(key);
  if (!fields) incs.set(key, (fields = new Map()));
  fields.set(field, (fields.get(field) ?? 0) + n);
}

export class WindowCounters {
  constructor(
    private readonly redis: RedisClient,
    private readonly rules: WindowRules,
    private readonly prefix: string,
  ) {}

  private async flush(incs: Increments, ttls: Map<string, number>): Promise<void> {
    if (!incs.size) return;
    const p = this.redis.pipeline();
    for (const [key, fields] of incs) {
      for (const [field, n] of fields) {
        if (Number.isInteger(n)) p.hincrby(key, field, n);
        else p.hincrbyfloat(key, field, n);
      }
      p.expire(key, ttls.get(key)!);
    }
    await p.exec();
  }

  /** Events a batch really inserted (`fresh`: "project:event_id"), with their issue ids. */
  async countEvents(
    items: EventRecord[],
    issueIds: ReadonlyArray<string | null>,
    fresh: ReadonlySet<string>,
    now = Date.now(),
  ): Promise<void> {
    const byProject = await this.rules.snapshot();
    if (!byProject.size) return;
    const incs: Increments = new Map();
    const ttls = new Map<string, number>();
    for (let i = 0; i < items.length; i++) {
      const r = items[i];
      const rules = byProject.get(r.project_id);
      if (!rules || !fresh.has(`${r.project_id}:${r.event_id}`)) continue;
      for (const rule of rules) {
        if (rule.trigger === 'llm.threshold') continue;
        const p = paramsOf(rule);
        let subject: string;
        if (rule.trigger === 'issue.frequency') {
          if (!issueIds[i]) continue;
          subject = issueIds[i]!;
        } else {
          if (p.kind && p.kind !== 'any' && p.kind !== r.kind) continue;
          subject = '_';
        }
        if (!filtersMatch(rule.filters, r)) continue;
        const spec = bucketSpec(p.window_minutes);
        const key = bucketKey(this.prefix, rule.id, spec, bucketIndex(spec, now));
        add(incs, key, subject, 1);
        ttls.set(key, (spec.count + 2) * spec.sizeMinutes * 60);
      }
    }
    await this.flush(incs, ttls);
  }

  /** LLM calls a batch really inserted (`fresh`: "project:event_id"). */
  async countLlm(items: LlmLogRecord[], fresh: ReadonlySet<string>, now = Date.now()): Promise<void> {
    const byProject = await this.rules.snapshot();
    if (!byProject.size) return;
    const incs: Increments = new Map();
    const ttls = new Map<string, number>();
    for (const r of items) {
      const rules = byProject.get(r.project_id);
      if (!rules || !fresh.has(`${r.project_id}:${r.event_id}`)) continue;
      for (const rule of rules) {
        if (rule.trigger !== 'llm.threshold') continue;
        const p = paramsOf(rule);
        if (p.model && p.model !== r.model) continue;
        if (rule.filters.services && !rule.filters.services.some((s) => s.toLowerCase() === (r.source ?? '').toLowerCase())) continue;
        const subject = p.per_model ? (r.model ?? '(none)').replaceAll('|', '/') : '_';
        const spec = bucketSpec(p.window_minutes);
        const key = bucketKey(this.prefix, rule.id, spec, bucketIndex(spec, now));
        add(incs, key, `${subject}|n`, 1);
        if (llmIsError(r.metadata)) add(incs, key, `${subject}|e`, 1);
        if (r.total_tokens) add(incs, key, `${subject}|t`, r.total_tokens);
        const cost = llmCost(r.metadata);
        if (cost) add(incs, key, `${subject}|c`, cost);
        if (r.latency_ms !== null) add(incs, key, `${subject}|l${latencyBin(r.latency_ms)}`, 1);
        ttls.set(key, (spec.count + 2) * spec.sizeMinutes * 60);
      }
    }
    await this.flush(incs, ttls);
  }

  /**
   * Each rule's totals over its window ending at `now`, per subject. A sliding window from
   * fixed buckets: the buckets the window covers in full, the current one so far, and the
   * one before them weighted by how much of it is still inside the window (so a count
   * does not drop to nothing when a new bucket starts).
   */
  async read(rules: RuleRow[], now: number): Promise<Map<number, Map<string, Record<string, number>>>> {
    const p = this.redis.pipeline();
    const plan: Array<{ rule: RuleRow; weights: number[] }> = [];
    for (const rule of rules) {
      const spec = bucketSpec(paramsOf(rule).window_minutes);
      const position = now / 60_000 / spec.sizeMinutes;
      const last = Math.floor(position);
      const weights: number[] = [];
      for (let i = last - spec.count; i <= last; i++) {
        p.hgetall(bucketKey(this.prefix, rule.id, spec, i));
        weights.push(i === last - spec.count ? 1 - (position - last) : 1);
      }
      plan.push({ rule, weights });
    }
    const replies = (await p.exec()) ?? [];
    const out = new Map<number, Map<string, Record<string, number>>>();
    let at = 0;
    for (const { rule, weights } of plan) {
      const subjects = new Map<string, Record<string, number>>();
      for (const weight of weights) {
        const [err, hash] = replies[at++] as [Error | null, Record<string, string>];
        if (err) throw err;
        for (const [field, v] of Object.entries(hash ?? {})) {
          const cut = rule.trigger === 'llm.threshold' ? field.lastIndexOf('|') : -1;
          const subject = cut >= 0 ? field.slice(0, cut) : field;
          const metric = cut >= 0 ? field.slice(cut + 1) : 'n';
          const totals = subjects.get(subject) ?? {};
          totals[metric] = (totals[metric] ?? 0) + Number(v) * weight;
          subjects.set(subject, totals);
        }
      }
      out.set(rule.id, subjects);
    }
    return out;
  }
}

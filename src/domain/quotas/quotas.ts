import type { RedisClient } from '../../queues/connection.ts';
import { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import { logger } from '../../logger.ts';
import { registry } from '../../metrics.ts';
import { AppError } from '../errors.ts';
import { runBucket, type Mode } from './bucket.ts';

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
import { effectiveProject, FIELD_OF, loadOverrides, PERIOD_MS, type EffectiveLimits, type Limits, type QuotaCategory } from './limits.ts';

export type RefusalReason = 'project_quota' | 'key_quota' | 'spike_protection';

/** Who is charged: the project, and the key when the caller used one. */
export interface QuotaScope {
  projectId: number;
  keyId?: number | null;
}

export interface Refusal {
  projectId: number;
  category: QuotaCategory;
  /** What Sentry calls the scope of the limit (X-Sentry-Rate-Limits). */
  scope: 'project' | 'key';
  reason: RefusalReason;
  retryAfterSeconds: number;
  quantity: number;
}

/**
 * Called for every refusal; the outcomes module (dropped data per project and category)
 * connects here. Also counted in /metrics and, per day, in Redis for the admin dashboard.
 */
export type OnRefused = (projectId: number, category: QuotaCategory, reason: RefusalReason, quantity: number) => void;

export const quotaRefused = new Counter({
  name: 'faultline_quota_refused_total',
  help: 'Items (or requests, when refused on their headers; bytes for dump_bytes) refused by quotas and spike protection, by project, category and reason',
  labelNames: ['project', 'category', 'reason'] as const,
  registers: [registry],
});

export interface QuotaOptions {
  /** Redis key prefix (the queue prefix: a hash tag in it keeps every key on one cluster slot). */
  prefix: string;
  defaults: { [K in keyof Limits]: NonNullable<Limits[K]> };
  spikeMultiplier: number;
  spikeFloorPerMinute: number;
  cacheTtlMs: number;
  /** A decision Redis does not answer within this fails open. */
  redisTimeoutMs?: number;
}

/** Items refused because their category is over its limit: 429, with what SDKs need to back off. */
export const rateLimited = (r: Refusal) =>
  new AppError(
    429,
    'rate_limited',
    r.reason === 'spike_protection'
      ? `Spike protection: this project is sending far more ${r.category} than in the last hour; retry later`
      : `The ${r.scope}'s ${r.category} quota is used up; retry later`,
    { retry_after: r.retryAfterSeconds, category: r.category, scope: r.scope, reason: r.reason },
    { 'Retry-After': String(r.retryAfterSeconds) },
  );

export const isRateLimited = (err: unknown): err is AppError => err instanceof AppError && err.code === 'rate_limited';

interface Cached {
  limits: { project: EffectiveLimits; keys: Map<number, Limits> };
  expires: number;
}

/**
 * Quotas and spike protection per project and per API key, in Redis token buckets shared by
 * every web process (src/domain/quotas/bucket.ts). The ingest routes ask `check` on the
 * headers (is anything left?) and `take` once the body is parsed (all of the request's
 * items of a category, or none); bytes known only after storing are `charge`d.
 *
 * Redis trouble never refuses data here: a failed quota call lets the request through
 * (the enqueue that follows answers 503 if Redis is really away).
 */
export class Quotas {
  /** Milliseconds since the epoch; tests move it. */
  clock: () => number = () => Date.now();
  private readonly cache = new Map<number, Cached>();
  private readonly listeners: OnRefused[] = [];
  private lastWarn = 0;

  constructor(
    private readonly ds: DataSource,
    private readonly redis: RedisClient,
    private readonly o: QuotaOptions,
  ) {}

  /** Registers a listener for refusals (see OnRefused). */
  onRefused(fn: OnRefused): void {
    this.listeners.push(fn);
  }

  get defaults() {
    return this.o.defaults;
  }

  get spike() {
    return { multiplier: this.o.spikeMultiplier, floor_per_minute: this.o.spikeFloorPerMinute };
  }

  /** The project's effective limits and its keys' overrides, cached for cacheTtlMs. */
  async limits(projectId: number): Promise<Cached['limits']> {
    const now = Date.now();
    const hit = this.cache.get(projectId);
    if (hit && hit.expires > now) return hit.limits;
    let own;
    try {
      own = await loadOverrides(this.ds, projectId);
    } catch (err) {
      if (hit) return hit.limits; // PostgreSQL away: the last limits known still hold
      throw err;
    }
    const limits = { project: effectiveProject(this.o.defaults, own.project), keys: own.keys };
    if (this.o.cacheTtlMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(projectId, { limits, expires: now + this.o.cacheTtlMs });
    }
    return limits;
  }

  /** After a change of a project's overrides: this process sees it at once (others within the TTL). */
  invalidate(projectId: number): void {
    this.cache.delete(projectId);
  }

  /** Is anything left for this scope and category (at least `quantity`, up to a full bucket)? Charges nothing. */
  check(scope: QuotaScope, category: QuotaCategory, quantity = 1): Promise<Refusal | null> {
    return this.run(scope, category, quantity, 'peek');
  }

  /** Takes `quantity` from every bucket of the scope, or nothing and the refusal. */
  take(scope: QuotaScope, category: QuotaCategory, quantity: number): Promise<Refusal | null> {
    return this.run(scope, category, quantity, 'take');
  }

  /** Charges what was already accepted (bytes known only once stored): the buckets may go into debt. */
  async charge(scope: QuotaScope, category: QuotaCategory, quantity: number): Promise<void> {
    await this.run(scope, category, quantity, 'force');
  }

  /** The header-phase check, throwing the 429. */
  async assertAvailable(scope: QuotaScope, category: QuotaCategory, quantity = 1): Promise<void> {
    const refused = await this.check(scope, category, quantity);
    if (refused) throw rateLimited(refused);
  }

  /**
   * All-or-nothing for a batch: the records' count per project is taken from each
   * project's buckets (and the key's); if one refuses, those already taken are given back
   * and the whole batch is refused.
   */
  async takeRecords(records: ReadonlyArray<{ project_id: number }>, category: QuotaCategory, keyId: number | null = null): Promise<void> {
    const per = new Map<number, number>();
    for (const r of records) per.set(r.project_id, (per.get(r.project_id) ?? 0) + 1);
    const taken: Array<[number, number]> = [];
    for (const [projectId, n] of per) {
      const refused = await this.take({ projectId, keyId }, category, n);
      if (refused) {
        for (const [p, m] of taken) await this.run({ projectId: p, keyId }, category, -m, 'force', false);
        throw rateLimited(refused);
      }
      taken.push([projectId, n]);
    }
  }

  private refusedKey(): string {
    return `${this.o.prefix}:quota:refused:${new Date(this.clock()).toISOString().slice(0, 10)}`;
  }

  private async run(scope: QuotaScope, category: QuotaCategory, quantity: number, mode: Mode, count = true): Promise<Refusal | null> {
    try {
      return await withTimeout(this.decide(scope, category, quantity, mode, count), this.o.redisTimeoutMs ?? 250);
    } catch (err) {
      if (Date.now() - this.lastWarn > 60_000) {
        this.lastWarn = Date.now();
        logger.warn({ err: (err as Error).message }, 'quota check failed; letting the request through');
      }
      return null;
    }
  }

  private async decide(scope: QuotaScope, category: QuotaCategory, quantity: number, mode: Mode, count: boolean): Promise<Refusal | null> {
    const { project, keys } = await this.limits(scope.projectId);
    const field = FIELD_OF[category];
    const projectCap = project[field];
    const keyCap = (scope.keyId != null ? keys.get(scope.keyId)?.[field] : null) ?? 0;
    // Bytes have no spike window (a dump is one big item); counts always feed theirs.
    const counted = category !== 'dump_bytes';
    const spike = counted && project.spike_protection ? { multiplier: this.o.spikeMultiplier, floor: this.o.spikeFloorPerMinute } : null;
    if (!projectCap && !keyCap && !spike) return null;
    const tag = `${this.o.prefix}:quota:{p${scope.projectId}}`;
    const answer = await runBucket(this.redis, {
      keys: [`${tag}:${category}`, `${tag}:k${scope.keyId ?? 0}:${category}`, `${tag}:spike:${category}`],
      now: this.clock(),
      cost: quantity,
      mode,
      projectCap,
      keyCap,
      periodMs: PERIOD_MS[category],
      spike,
      record: counted && mode !== 'peek',
    });
    if (answer.ok) return null;
    const refusal: Refusal = {
      projectId: scope.projectId,
      category,
      scope: answer.which === 'key' ? 'key' : 'project',
      reason: answer.which === 'key' ? 'key_quota' : answer.which === 'spike' ? 'spike_protection' : 'project_quota',
      retryAfterSeconds: Math.max(1, Math.ceil(answer.waitMs / 1000)),
      quantity: Math.max(1, quantity),
    };
    if (count) this.refused(refusal);
    return refusal;
  }

  private refused(r: Refusal): void {
    quotaRefused.inc({ project: String(r.projectId), category: r.category, reason: r.reason }, r.quantity);
    const key = this.refusedKey();
    this.redis
      .multi()
      .hincrby(key, `${r.projectId}:${r.category}:${r.reason}`, r.quantity)
      .expire(key, 8 * 86400)
      .exec()
      .catch(() => undefined);
    for (const fn of this.listeners) {
      try {
        fn(r.projectId, r.category, r.reason, r.quantity);
      } catch (err) {
        logger.error({ err }, 'onRefused listener failed');
      }
    }
  }
}

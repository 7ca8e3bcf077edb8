import { Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import { logger } from '../../logger.ts';
import { registry } from '../../metrics.ts';
import { categoryOf, type Category, type OutcomeName } from './categories.ts';

/** One thing that happened to some data of a project: `quantity` items (or bytes, for `*_byte` categories). */
export interface OutcomeInput {
  projectId: number;
  category: Category | string;
  outcome: OutcomeName;
  /** A short code: a filter id, a client report reason, `unsupported_item:<type>`, an error code. */
  reason?: string | null;
  quantity?: number;
  /** The API key the data came with, when known. */
  keyId?: number | null;
  /** When it happened (default now); only its hour is kept. */
  at?: Date | number;
}

interface Pending {
  projectId: number;
  hour: number;
  category: string;
  outcome: string;
  reason: string;
  keyId: number;
  quantity: number;
}

const outcomesTotal = new Counter({
  name: 'faultline_outcomes_total',
  help: 'What happened to ingested data, by data category and outcome (reasons are in the outcomes table)',
  labelNames: ['category', 'outcome'] as const,
  registers: [registry],
});
const outcomesOverflow = new Counter({
  name: 'faultline_outcomes_overflow_total',
  help: 'Outcome counts not kept for the outcomes table because too many distinct counters were pending',
  registers: [registry],
});

const HOUR = 3_600_000;
const ROWS_PER_STATEMENT = 1000;
const cleanReason = (r: string | null | undefined): string => (r ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);

/**
 * Counts outcomes where they happen, cheaply: one Map update on the hot path. Every
 * `flushIntervalMs` (and on shutdown) the counts are *added* to the hourly rows of the
 * `outcomes` table in one statement, so any number of processes flush on their own
 * without coordination and without double counting. A flush that fails (PostgreSQL away)
 * puts its counts back and the next one retries; only a process killed outright loses
 * what it counted since its last flush (at most one interval).
 */
export class OutcomeRecorder {
  private pending = new Map<string, Pending>();
  private readonly sources: DataSource[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<number> | null = null;

  constructor(private readonly opts: { flushIntervalMs: number; maxPendingKeys: number }) {}

  record(o: OutcomeInput): void {
    const quantity = Math.trunc(o.quantity ?? 1);
    if (!(quantity > 0) || !Number.isSafeInteger(o.projectId) || o.projectId <= 0) return;
    const category = categoryOf(o.category);
    outcomesTotal.inc({ category, outcome: o.outcome }, quantity);
    const at = o.at === undefined ? Date.now() : typeof o.at === 'number' ? o.at : o.at.getTime();
    const hour = Math.floor((Number.isFinite(at) ? at : Date.now()) / HOUR) * HOUR;
    const reason = cleanReason(o.reason);
    const keyId = o.keyId && Number.isSafeInteger(o.keyId) && o.keyId > 0 ? o.keyId : 0;
    this.add({ projectId: o.projectId, hour, category, outcome: o.outcome, reason, keyId, quantity });
  }

  private add(p: Pending): void {
    const key = `${p.projectId}\u0000${p.hour}\u0000${p.category}\u0000${p.outcome}\u0000${p.reason}\u0000${p.keyId}`;
    const have = this.pending.get(key);
    if (have) {
      have.quantity += p.quantity;
    } else if (this.pending.size < this.opts.maxPendingKeys) {
      this.pending.set(key, { ...p });
    } else {
      outcomesOverflow.inc(p.quantity);
    }
  }

  /** Distinct counters waiting for the next flush (for tests and /metrics-minded operators). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * A process that can write (web, worker) attaches its DataSource: flushing starts. Several
   * may attach (tests run many webs in one process); any open one writes.
   */
  attach(ds: DataSource): void {
    this.sources.push(ds);
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.flush().catch((err) => logger.warn({ err: (err as Error).message }, 'outcomes flush failed; retrying next interval'));
      }, this.opts.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** On shutdown, before the DataSource closes: writes what is pending, then stops using it. */
  async detach(ds: DataSource): Promise<void> {
    try {
      await this.flush();
    } finally {
      const i = this.sources.indexOf(ds);
      if (i >= 0) this.sources.splice(i, 1);
      if (!this.sources.length && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }
  }

  /** Adds everything pending to the outcomes table; answers how many counters were written. */
  async flush(): Promise<number> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    const ds = this.sources.find((s) => s.isInitialized);
    if (!ds || !this.pending.size) return 0;
    this.flushing = this.write(ds).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async write(ds: DataSource): Promise<number> {
    const batch = this.pending;
    this.pending = new Map();
    // One order for every process: concurrent upserts of the same rows lock them in the same order (no deadlock).
    const rows = [...batch.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
    let written = 0;
    try {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
        await ds.query(
          `INSERT INTO outcomes (project_id, hour, category, outcome, reason, key_id, quantity)
           SELECT v.project_id, v.hour, v.category, v.outcome, v.reason, v.key_id, v.quantity
             FROM unnest($1::int[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[])
                  AS v(project_id, hour, category, outcome, reason, key_id, quantity)
             -- A refusal may name a project that does not exist (a made-up id in a DSN): not counted.
             JOIN projects p ON p.id = v.project_id
           ON CONFLICT (project_id, hour, category, outcome, reason, key_id)
           DO UPDATE SET quantity = outcomes.quantity + excluded.quantity, updated_at = now()`,
          [
            chunk.map((r) => r.projectId),
            chunk.map((r) => new Date(r.hour).toISOString()),
            chunk.map((r) => r.category),
            chunk.map((r) => r.outcome),
            chunk.map((r) => r.reason),
            chunk.map((r) => r.keyId),
            chunk.map((r) => String(r.quantity)),
          ],
        );
        written += chunk.length;
      }
    } catch (err) {
      // What was not written goes back (each statement is atomic: the written chunks stay written).
      for (const r of rows.slice(written)) this.add(r);
      throw err;
    }
    return written;
  }
}

/** The process's recorder: every edge counts into it; web and worker attach their DataSource. */
export const outcomes = new OutcomeRecorder(config.outcomes);

/** Counts an outcome (cheap: in memory until the next flush). */
export const recordOutcome = (o: OutcomeInput): void => outcomes.record(o);

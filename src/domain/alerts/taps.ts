import type { RedisClient } from '../../queues/connection.ts';
import type { DataSource } from 'typeorm';
import type { EventRecord } from '../events/record.ts';
import type { StoredBatch } from '../events/store.ts';
import type { LlmLogRecord } from '../logs/llmRecord.ts';
import type { Logger } from '../../logger.ts';
import { WindowCounters, WindowRules } from './counters.ts';
import type { AlertJobs } from './jobs.ts';

/**
 * What the store workers tell the alerts, after a batch is committed — never on the HTTP
 * ingest path. New and reopened issues go to the alerts queue (their signals are already
 * in the database: if this enqueue fails, the evaluate-alerts sweep picks them up); new
 * events and LLM calls are counted for windowed rules. A failure here is logged, not
 * thrown: the batch is stored, and retrying the job would store nothing and count nothing.
 */
export class AlertTaps {
  readonly rules: WindowRules;
  readonly counters: WindowCounters;

  constructor(
    ds: DataSource,
    redis: RedisClient,
    private readonly jobs: AlertJobs,
    private readonly log: Logger,
    opts: { prefix: string; ruleCacheMs: number },
  ) {
    this.rules = new WindowRules(ds, opts.ruleCacheMs);
    this.counters = new WindowCounters(redis, this.rules, opts.prefix);
  }

  async eventsStored(items: EventRecord[], batch: StoredBatch): Promise<void> {
    if (batch.signalIds.length) {
      try {
        await this.jobs.processSignals(batch.signalIds);
      } catch (err) {
        this.log.warn(
          { err: (err as Error).message, signals: batch.signalIds.length },
          'alert signals not queued; the sweep will take them',
        );
      }
    }
    if (!batch.events.length) return;
    try {
      const rules = await this.rules.snapshot();
      if (!rules.size || !items.some((r) => rules.has(r.project_id))) return; // the common case: nothing to count
      const issueOf = new Map(batch.events.map((e) => [`${e.project_id}:${e.event_id}`, e.issue_id]));
      const fresh = new Set(issueOf.keys());
      await this.counters.countEvents(
        items,
        items.map((r) => issueOf.get(`${r.project_id}:${r.event_id}`) ?? null),
        fresh,
      );
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'alert counters not updated for a batch');
    }
  }

  async llmStored(items: LlmLogRecord[], fresh: ReadonlySet<string>): Promise<void> {
    if (!fresh.size) return;
    try {
      await this.counters.countLlm(items, fresh);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'alert counters not updated for LLM calls');
    }
  }
}

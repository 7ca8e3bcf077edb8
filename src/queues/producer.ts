import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { unavailable } from '../domain/errors.ts';
import type { EventRecord } from '../domain/events/record.ts';
import type { CheckInRecord } from '../domain/alerts/checkInRecord.ts';
import { logger } from '../logger.ts';
import { JOBS, QUEUE_JOB_DEFAULTS, QUEUE_NAMES, type JobName, type JobPayload, type QueueName } from './contract.ts';
import { GroupCommit, type GroupCommitOptions } from './groupCommit.ts';

export function createQueues(connection: Redis, prefix: string): Record<QueueName, Queue> {
  return Object.fromEntries(
    QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix, defaultJobOptions: QUEUE_JOB_DEFAULTS[name] })]),
  ) as Record<QueueName, Queue>;
}

export async function addJob<N extends JobName>(queues: Record<QueueName, Queue>, name: N, payload: JobPayload<N>) {
  return queues[JOBS[name].queue].add(name, payload);
}

export interface ProducerOptions extends GroupCommitOptions {
  enqueueTimeoutMs: number;
  maxQueueDepth: number;
}

const RETRY_AFTER_S = 5;

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`enqueue timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The API's side of ingestion: refuses early when Redis is away or the queue is too
 * deep (load shedding, 503 + Retry-After), group-commits accepted records into jobs,
 * and resolves only once the job is in Redis.
 */
export class EventProducer {
  private readonly group: GroupCommit<EventRecord>;
  private depth = 0;
  private readonly depthTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly queues: Record<QueueName, Queue>,
    private readonly opts: ProducerOptions,
  ) {
    this.group = new GroupCommit((items) => this.commit(items), opts);
    this.depthTimer = setInterval(() => void this.sampleDepth(), 500);
    this.depthTimer.unref();
  }

  private async commit(items: EventRecord[]): Promise<void> {
    await withTimeout(addJob(this.queues, 'store-events', { items }), this.opts.enqueueTimeoutMs);
  }

  private async sampleDepth(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      this.depth = await this.queues.events.getWaitingCount();
    } catch {
      // Redis went away between the status check and the call; the next add will say so.
    }
  }

  /** Throws a 503 when this item should not even be read: Redis down or queue over its limit. */
  assertCapacity(): void {
    if (this.redis.status !== 'ready') throw unavailable('Event queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
    if (this.depth > this.opts.maxQueueDepth) throw unavailable('Ingestion is over capacity, retry later', RETRY_AFTER_S, 'over_capacity');
  }

  async enqueue(records: EventRecord[], bytes: number): Promise<void> {
    this.assertCapacity();
    try {
      await this.group.add(records, bytes);
    } catch (err) {
      logger.warn({ err: (err as Error).message, events: records.length }, 'enqueue failed');
      throw unavailable('Event queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
    }
  }

  /**
   * Cron check-ins (Sentry `check_in` items, the HTTP ping): few and small, one job per
   * request, on the alerts queue; durably queued before the caller answers 2xx.
   */
  async enqueueCheckIns(items: CheckInRecord[]): Promise<void> {
    this.assertCapacity();
    try {
      await withTimeout(addJob(this.queues, 'store-check-ins', { items }), this.opts.enqueueTimeoutMs);
    } catch (err) {
      logger.warn({ err: (err as Error).message, checkIns: items.length }, 'enqueue failed');
      throw unavailable('Queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
    }
  }

  get queueDepth(): number {
    return this.depth;
  }

  async close(): Promise<void> {
    clearInterval(this.depthTimer);
    await this.group.drain();
  }
}

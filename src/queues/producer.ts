import { Queue } from 'bullmq';
import { infoOfKeyspace, type RedisClient } from './connection.ts';
import { AppError, unavailable } from '../domain/errors.ts';
import type { EventRecord } from '../domain/events/record.ts';
import type { CheckInRecord } from '../domain/alerts/checkInRecord.ts';
import { logger } from '../logger.ts';
import { JOBS, PACKED_JOBS, QUEUE_JOB_DEFAULTS, QUEUE_NAMES, type JobName, type JobPayload, type QueueName } from './contract.ts';
import { GroupCommit, type GroupCommitOptions } from './groupCommit.ts';
import { pack } from './pack.ts';

export function createQueues(connection: RedisClient, prefix: string): Record<QueueName, Queue> {
  return Object.fromEntries(
    QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix, defaultJobOptions: QUEUE_JOB_DEFAULTS[name] })]),
  ) as Record<QueueName, Queue>;
}

export async function addJob<N extends JobName>(queues: Record<QueueName, Queue>, name: N, payload: JobPayload<N>) {
  const data = PACKED_JOBS.has(name) ? pack((payload as { items: object[] }).items) : payload;
  return queues[JOBS[name].queue].add(name, data);
}

export interface ProducerOptions extends GroupCommitOptions {
  enqueueTimeoutMs: number;
  maxQueueDepth: number;
  /** Shedding by Redis memory (see redisMemoryLimit); absent: none. */
  redisMemory?: RedisMemoryOptions;
  /** Bytes of accepted requests this process may hold until their jobs are in Redis; absent: no bound. */
  maxPendingBytes?: number;
}

export interface RedisMemoryOptions {
  /** INGEST_MAX_REDIS_MEMORY: an absolute limit on used_memory, or null. */
  max: number | null;
  /** INGEST_REDIS_MEMORY_FRACTION: of Redis's maxmemory, when it has one. */
  fraction: number;
}

/** Where shedding starts when Redis has no maxmemory and no limit is configured. */
export const DEFAULT_REDIS_MEMORY_LIMIT = 1024 ** 3;

/**
 * The used_memory past which ingestion is refused: the lower of the configured limit and
 * `fraction` of Redis's maxmemory — before Redis itself refuses writes (noeviction) and
 * workers can no longer move jobs along — or DEFAULT_REDIS_MEMORY_LIMIT when neither is set.
 */
export function redisMemoryLimit(maxmemory: number, opts: RedisMemoryOptions): number {
  const limits = [opts.max, maxmemory > 0 ? Math.floor(maxmemory * opts.fraction) : null].filter((n): n is number => n !== null);
  return limits.length ? Math.min(...limits) : DEFAULT_REDIS_MEMORY_LIMIT;
}

const infoField = (info: string, name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);

const RETRY_AFTER_S = 5;

/** Load shedding's answer (503, or 429 for Sentry SDKs): which limit, so an operator can tell from a client's log. */
const overCapacity = (why: string, reason: string, limit: number) =>
  new AppError(
    503,
    'over_capacity',
    `Ingestion is over capacity (${why}), retry later`,
    { reason, limit },
    { 'Retry-After': String(RETRY_AFTER_S) },
  );

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
 * The API's side of ingestion: refuses early when Redis is away, the queue is too deep,
 * Redis holds too many bytes or this process holds too many waiting for Redis (load
 * shedding, 503 + Retry-After), group-commits accepted records into jobs, and resolves
 * only once the job is in Redis.
 */
export class EventProducer {
  private readonly group: GroupCommit<EventRecord>;
  private depth = 0;
  private readonly sampleTimer: NodeJS.Timeout;
  /** Redis's used_memory at the last sample, plus what we queued since (the next sample includes it). */
  private usedMemory = 0;
  private queuedSinceSample = 0;
  private memoryLimit = Number.POSITIVE_INFINITY;
  /** Bytes of requests accepted by this process whose jobs are not in Redis yet. */
  private held = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly queues: Record<QueueName, Queue>,
    private readonly opts: ProducerOptions,
  ) {
    this.group = new GroupCommit((items) => this.commit(items), opts);
    this.sampleTimer = setInterval(() => void this.sample(), 500);
    this.sampleTimer.unref();
    void this.sample();
  }

  private async commit(items: EventRecord[]): Promise<void> {
    await withTimeout(addJob(this.queues, 'store-events', { items }), this.opts.enqueueTimeoutMs);
  }

  /** Queue depth and Redis memory, sampled twice a second: assertCapacity() stays synchronous and cheap. */
  private async sample(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      const memory = this.opts.redisMemory;
      const [depth, info] = await Promise.all([this.queues.events.getWaitingCount(), memory ? infoOfKeyspace(this.redis, 'memory') : null]);
      this.depth = depth;
      if (memory && info !== null) {
        const used = infoField(info, 'used_memory');
        if (Number.isFinite(used)) {
          this.usedMemory = used;
          this.queuedSinceSample = 0;
          this.memoryLimit = redisMemoryLimit(infoField(info, 'maxmemory') || 0, memory);
        }
      }
    } catch {
      // Redis went away between the status check and the call; the next add will say so.
    }
  }

  /** Throws a 503 when this item should not even be read: Redis down, or a load shedding limit passed. */
  assertCapacity(): void {
    if (this.redis.status !== 'ready') throw unavailable('Event queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
    if (this.depth > this.opts.maxQueueDepth) throw overCapacity('the queue is too deep', 'queue_depth', this.opts.maxQueueDepth);
    if (this.usedMemory + this.queuedSinceSample > this.memoryLimit)
      throw overCapacity('Redis holds too many bytes', 'redis_memory', this.memoryLimit);
    if (this.held >= this.maxPendingBytes)
      throw overCapacity('too many bytes are waiting for the queue', 'pending_bytes', this.maxPendingBytes);
  }

  /**
   * Runs `commit` (a group commit of `bytes` of records) with those bytes counted as held
   * by this process until it settles. Refused when they would pass maxPendingBytes —
   * unless nothing else is held, so one request larger than the bound still gets through.
   */
  async hold<T>(bytes: number, commit: () => Promise<T>): Promise<T> {
    if (this.held > 0 && this.held + bytes > this.maxPendingBytes) {
      throw overCapacity('too many bytes are waiting for the queue', 'pending_bytes', this.maxPendingBytes);
    }
    this.held += bytes;
    try {
      const result = await commit();
      this.queuedSinceSample += bytes;
      return result;
    } finally {
      this.held -= bytes;
    }
  }

  async enqueue(records: EventRecord[], bytes: number): Promise<void> {
    this.assertCapacity();
    await this.hold(bytes, async () => {
      try {
        await this.group.add(records, bytes);
      } catch (err) {
        logger.warn({ err: (err as Error).message, events: records.length }, 'enqueue failed');
        throw unavailable('Event queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
      }
    });
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

  /** Bytes of accepted requests waiting for their jobs to be in Redis. */
  get heldBytes(): number {
    return this.held;
  }

  private get maxPendingBytes(): number {
    return this.opts.maxPendingBytes ?? Number.POSITIVE_INFINITY;
  }

  async close(): Promise<void> {
    clearInterval(this.sampleTimer);
    await this.group.drain();
  }
}

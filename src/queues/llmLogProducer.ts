import type { Queue } from 'bullmq';
import { unavailable } from '../domain/errors.ts';
import type { LlmLogRecord } from '../domain/logs/llmRecord.ts';
import type { SpanRecord } from '../domain/spans/record.ts';
import { logger } from '../logger.ts';
import type { JobPayload, QueueName } from './contract.ts';
import { GroupCommit } from './groupCommit.ts';
import { addJob, withTimeout, type EventProducer, type ProducerOptions } from './producer.ts';

const RETRY_AFTER_S = 5;

type ItemJob = 'store-llm-logs' | 'store-spans';
type ItemOf<N extends ItemJob> = JobPayload<N>['items'][number];

/**
 * The API's side of a job on the events queue that carries `{items}`: the same group
 * commit as events, into jobs named `job`. Capacity (Redis up, queue depth, bytes in
 * Redis and held here) is the event producer's — every kind shares the events queue —
 * so load shedding treats them alike. Resolves only once the job is in Redis: a 2xx
 * still means "durably queued".
 */
export class ItemProducer<N extends ItemJob> {
  private readonly group: GroupCommit<ItemOf<N>>;

  constructor(
    private readonly events: EventProducer,
    queues: Record<QueueName, Queue>,
    opts: ProducerOptions,
    private readonly job: N,
  ) {
    this.group = new GroupCommit(async (items) => {
      await withTimeout(addJob(queues, job, { items } as JobPayload<N>), opts.enqueueTimeoutMs);
    }, opts);
  }

  assertCapacity(): void {
    this.events.assertCapacity();
  }

  async enqueue(records: Array<ItemOf<N>>, bytes: number): Promise<void> {
    this.events.assertCapacity();
    // The bytes held count against the same bound as events': it is one process's memory.
    await this.events.hold(bytes, async () => {
      try {
        await this.group.add(records, bytes);
      } catch (err) {
        logger.warn({ err: (err as Error).message, job: this.job, items: records.length }, 'enqueue failed');
        throw unavailable('Event queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
      }
    });
  }

  async close(): Promise<void> {
    await this.group.drain();
  }
}

/** LLM calls (DataIdea, GenAI spans): `store-llm-logs` jobs. */
export class LlmLogProducer extends ItemProducer<'store-llm-logs'> {
  constructor(events: EventProducer, queues: Record<QueueName, Queue>, opts: ProducerOptions) {
    super(events, queues, opts, 'store-llm-logs');
  }
}

/** Spans (OTLP traces, Sentry transactions and span items): `store-spans` jobs. */
export class SpanProducer extends ItemProducer<'store-spans'> {
  constructor(events: EventProducer, queues: Record<QueueName, Queue>, opts: ProducerOptions) {
    super(events, queues, opts, 'store-spans');
  }
}

export type { LlmLogRecord, SpanRecord };

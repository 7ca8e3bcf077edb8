import type { Queue } from 'bullmq';
import { unavailable } from '../domain/errors.ts';
import type { LlmLogRecord } from '../domain/logs/llmRecord.ts';
import { logger } from '../logger.ts';
import type { QueueName } from './contract.ts';
import { GroupCommit } from './groupCommit.ts';
import { addJob, withTimeout, type EventProducer, type ProducerOptions } from './producer.ts';

const RETRY_AFTER_S = 5;

/**
 * The API's side of LLM log ingestion (seed 3): the same group commit as events, into
 * `store-llm-logs` jobs. Capacity (Redis up, queue depth, bytes in Redis and held here)
 * is the event producer's — both kinds share the events queue — so load shedding treats
 * them alike. Resolves only once the job is in Redis: a 202 still means "durably queued".
 */
export class LlmLogProducer {
  private readonly group: GroupCommit<LlmLogRecord>;

  constructor(
    private readonly events: EventProducer,
    queues: Record<QueueName, Queue>,
    opts: ProducerOptions,
  ) {
    this.group = new GroupCommit(async (items) => {
      await withTimeout(addJob(queues, 'store-llm-logs', { items }), opts.enqueueTimeoutMs);
    }, opts);
  }

  assertCapacity(): void {
    this.events.assertCapacity();
  }

  async enqueue(records: LlmLogRecord[], bytes: number): Promise<void> {
    this.events.assertCapacity();
    // The bytes held count against the same bound as events': it is one process's memory.
    await this.events.hold(bytes, async () => {
      try {
        await this.group.add(records, bytes);
      } catch (err) {
        logger.warn({ err: (err as Error).message, llmLogs: records.length }, 'enqueue failed');
        throw unavailable('Event queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
      }
    });
  }

  async close(): Promise<void> {
    await this.group.drain();
  }
}

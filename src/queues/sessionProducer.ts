import type { Queue } from 'bullmq';
import { unavailable } from '../domain/errors.ts';
import type { SessionMark } from '../domain/sessions/normalize.ts';
import { logger } from '../logger.ts';
import type { QueueName } from './contract.ts';
import { GroupCommit } from './groupCommit.ts';
import { addJob, withTimeout, type EventProducer, type ProducerOptions } from './producer.ts';

const RETRY_AFTER_S = 5;

/**
 * Release health marks (Sentry sessions) into `store-sessions` jobs: the same group
 * commit and load shedding as events (they share the events queue); resolves once the
 * job is in Redis.
 */
export class SessionProducer {
  private readonly group: GroupCommit<SessionMark>;

  constructor(
    private readonly events: EventProducer,
    queues: Record<QueueName, Queue>,
    opts: ProducerOptions,
  ) {
    this.group = new GroupCommit(async (items) => {
      await withTimeout(addJob(queues, 'store-sessions', { items }), opts.enqueueTimeoutMs);
    }, opts);
  }

  async enqueue(marks: SessionMark[]): Promise<void> {
    if (!marks.length) return;
    this.events.assertCapacity();
    try {
      await this.group.add(marks, marks.length * 200);
    } catch (err) {
      logger.warn({ err: (err as Error).message, marks: marks.length }, 'enqueue failed');
      throw unavailable('Event queue unavailable, retry later', RETRY_AFTER_S, 'queue_unavailable');
    }
  }

  async close(): Promise<void> {
    await this.group.drain();
  }
}

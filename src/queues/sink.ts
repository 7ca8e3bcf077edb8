import type { Queue } from 'bullmq';
import type { WorkSink } from '../domain/sinks.ts';
import type { Logger } from '../logger.ts';
import type { QueueName } from './contract.ts';
import { addJob, withTimeout, type EventProducer } from './producer.ts';

const DUMP_ENQUEUE_TIMEOUT_MS = 5000;

/** The queues as the domain's WorkSink: events through the group-committing producer, dump processing as one job each. */
export function queueSink(producer: EventProducer, queues: Record<QueueName, Queue>, log: Logger): WorkSink {
  return {
    enqueueEvents: (records, bytes) => producer.enqueue(records, bytes),
    enqueueCheckIns: (records) => producer.enqueueCheckIns(records),
    async processDump(dump) {
      try {
        await withTimeout(addJob(queues, 'process-dump', { dump_id: dump.id, sha256: dump.sha256 }), DUMP_ENQUEUE_TIMEOUT_MS);
      } catch (err) {
        // The dump is durable and recorded: a Redis outage must not turn the upload into an error.
        log.warn({ dump: dump.id, err: (err as Error).message }, 'could not queue dump processing; the retention run will catch up');
      }
    },
  };
}

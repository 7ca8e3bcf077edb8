import type { Queue } from 'bullmq';
import type { Logger } from '../../logger.ts';
import { addJob } from '../../queues/producer.ts';
import type { QueueName } from '../../queues/contract.ts';

const ENQUEUE_TIMEOUT_MS = 5000;

/**
 * Queues post-processing of a stored dump. The dump is already durable and recorded,
 * so a Redis outage must not turn the upload into an error: the failure is logged, and
 * the retention run processes dumps still `pending` (stalePending).
 */
export async function enqueueDumpProcessing(queues: Record<QueueName, Queue>, dump: { id: string; sha256: string }, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      addJob(queues, 'process-dump', { dump_id: dump.id, sha256: dump.sha256 }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`enqueue timed out after ${ENQUEUE_TIMEOUT_MS} ms`)), ENQUEUE_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    log.warn({ dump: dump.id, err: (err as Error).message }, 'could not queue dump processing; the retention run will catch up');
  } finally {
    clearTimeout(timer);
  }
}

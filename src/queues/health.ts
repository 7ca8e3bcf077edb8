import type { Queue } from 'bullmq';
import type { QueueName } from './contract.ts';

export interface QueueStats {
  queue: QueueName;
  counts: Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed' | 'prioritized', number>;
  /** How long the oldest waiting job has waited: the ingest lag. 0 when nothing waits. */
  lagSeconds: number;
  /** Totals recorded by workers (BullMQ metrics), across every worker process. */
  processedTotal: number;
  failedTotal: number;
}

export async function queueStats(queues: Record<QueueName, Queue>): Promise<QueueStats[]> {
  return Promise.all(
    (Object.entries(queues) as Array<[QueueName, Queue]>).map(async ([name, q]) => {
      const [counts, oldest, completed, failed] = await Promise.all([
        q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
        q.getWaiting(-1, -1),
        q.getMetrics('completed', 0, 0),
        q.getMetrics('failed', 0, 0),
      ]);
      const first = oldest[0];
      return {
        queue: name,
        counts: counts as QueueStats['counts'],
        lagSeconds: first ? Math.max(0, (Date.now() - first.timestamp) / 1000) : 0,
        processedTotal: Number(completed.meta.count) || 0,
        failedTotal: Number(failed.meta.count) || 0,
      };
    }),
  );
}

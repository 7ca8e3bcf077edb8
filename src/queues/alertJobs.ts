import type { Queue } from 'bullmq';
import type { AlertJobs } from '../domain/alerts/jobs.ts';
import { JOBS, type QueueName } from './contract.ts';

/** The alerts' AlertJobs on BullMQ: notification jobs are named by their notification. */
export function alertJobs(queues: Record<QueueName, Queue>): AlertJobs {
  const notifications = queues[JOBS['deliver-notification'].queue];
  return {
    async deliver(outgoing) {
      if (!outgoing.length) return;
      await notifications.addBulk(
        outgoing.map((o) => ({
          name: 'deliver-notification',
          data: { notification_id: o.notificationId },
          opts: { jobId: `notification-${o.notificationId}`, delay: o.delayMs },
        })),
      );
    },
    async queued(ids) {
      return Promise.all(ids.map(async (id) => Boolean(await notifications.getJob(`notification-${id}`))));
    },
    async processSignals(signalIds) {
      await queues[JOBS['process-alert-signals'].queue].add('process-alert-signals', { signal_ids: signalIds });
    },
  };
}

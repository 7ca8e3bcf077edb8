import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { deliverNotification } from '../domain/alerts/deliver.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';

/** A retryable failure: BullMQ retries it after `retryAfterMs` when the receiver gave one (see NOTIFICATION_BACKOFF). */
export class RetryDelivery extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/**
 * `deliver-notification`: one attempt per run, every attempt in the delivery log.
 * Timeouts, connection errors, 5xx and 429 throw to be retried; other 4xx (and targets
 * refused by the SSRF guard) fail unrecoverably — recorded, not retried.
 */
export function deliverNotificationProcessor(ds: DataSource, log: Logger) {
  return async (job: Job) => {
    const payload = job.data as JobPayload<'deliver-notification'>;
    const attempt = job.attemptsMade + 1;
    const verdict = await deliverNotification(ds, payload.notification_id, { attempt, lastAttempt: attempt >= (job.opts.attempts ?? 1) });
    if (!verdict.done) throw new RetryDelivery(verdict.error, verdict.retryAfterMs);
    if (verdict.outcome === 'failed') {
      log.warn({ jobId: job.id, notification: payload.notification_id, attempt, error: verdict.detail }, 'notification failed');
      throw new UnrecoverableError(`not delivered: ${verdict.detail ?? 'failed'}`);
    }
    return verdict;
  };
}

import type { CheckInRecord } from './alerts/checkInRecord.ts';
import type { EventRecord } from './events/record.ts';

/**
 * Where the domain hands work on to the queues. The domain never imports the queue
 * layer: src/queues implements this (queueSink) and the edges pass it in.
 */
export interface WorkSink {
  /** Error events and logs: resolves once durably queued; throws the 503 to answer otherwise. */
  enqueueEvents(records: EventRecord[], bytes: number): Promise<void>;
  /**
   * Post-processing of a dump already stored and recorded: best effort — a failure is
   * logged and the retention run processes dumps still pending.
   */
  processDump(dump: { id: string; sha256: string }): Promise<void>;
  /** Cron monitor check-ins: resolves once durably queued; throws the 503 otherwise. */
  enqueueCheckIns(records: CheckInRecord[]): Promise<void>;
}

/**
 * What the alerts hand on to the queues — implemented by src/queues/alertJobs.ts; the
 * domain never imports the queue layer. Job ids are the notifications', so queueing one
 * twice (a retried job, the sweeper) queues it once.
 */
export interface Outgoing {
  notificationId: string;
  delayMs: number;
}

export interface AlertJobs {
  /** Deliveries of recorded notifications, each after its delay (a digest's end). */
  deliver(outgoing: Outgoing[]): Promise<void>;
  /** Which of these notifications have a delivery job already (waiting, delayed, retrying). */
  queued(notificationIds: string[]): Promise<boolean[]>;
  /** New and reopened issues' signals, for the alert processor. */
  processSignals(signalIds: string[]): Promise<void>;
}

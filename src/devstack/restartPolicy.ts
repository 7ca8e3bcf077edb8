/**
 * When `npm start` restarts a crashed web or worker process, and when it stops trying.
 * Pure bookkeeping over timestamps (no timers, no processes) so the rules are plain to
 * read and to check.
 *
 * Like systemd's StartLimitBurst/StartLimitIntervalSec: a process that crashes
 * `maxCrashes` times within `windowMs` is broken, not unlucky, and restarting it forever
 * would only hide that. Below that rate it is restarted after an exponential backoff, so
 * a crash at startup does not spin the CPU. A process that stayed up for a whole window
 * ran fine: its next crash starts the backoff over.
 */
export interface RestartPolicyOptions {
  maxCrashes: number;
  windowMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export type RestartDecision = { restart: true; delayMs: number; crashes: number } | { restart: false; crashes: number };

export class RestartPolicy {
  private crashTimes: number[] = [];
  private nextDelayMs: number;

  constructor(readonly options: RestartPolicyOptions) {
    this.nextDelayMs = options.initialDelayMs;
  }

  /** A process that started at `startedAt` exited unexpectedly at `exitedAt` (ms). */
  onExit(startedAt: number, exitedAt: number): RestartDecision {
    const { maxCrashes, windowMs, initialDelayMs, maxDelayMs } = this.options;
    if (exitedAt - startedAt >= windowMs) this.nextDelayMs = initialDelayMs;
    this.crashTimes = this.crashTimes.filter((t) => exitedAt - t < windowMs);
    this.crashTimes.push(exitedAt);
    const crashes = this.crashTimes.length;
    if (crashes >= maxCrashes) return { restart: false, crashes };
    const delayMs = this.nextDelayMs;
    this.nextDelayMs = Math.min(delayMs * 2, maxDelayMs);
    return { restart: true, delayMs, crashes };
  }
}

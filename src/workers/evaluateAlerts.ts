import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { pruneSignals, requeuePending } from '../domain/alerts/sweep.ts';
import { detectMonitorProblems } from '../domain/alerts/checkIns.ts';
import { processSignals } from '../domain/alerts/signals.ts';
import type { AlertTaps } from '../domain/alerts/taps.ts';
import { evaluateWindows } from '../domain/alerts/windows.ts';
import type { Logger } from '../logger.ts';
import type { JobPayload } from '../queues/contract.ts';
import type { AlertJobs } from '../domain/alerts/jobs.ts';

/**
 * `evaluate-alerts` (repeatable, ALERT_EVALUATION_INTERVAL_MS): windowed rules against
 * their counters, missed and timed-out cron runs, then the sweep for what a crash left
 * behind (signals never handled, notifications never queued). Every part is idempotent,
 * so overlapping or retried runs change nothing twice.
 */
export function evaluateAlertsProcessor(ds: DataSource, jobs: AlertJobs, taps: AlertTaps, log: Logger) {
  return async (job: Job) => {
    const payload = job.data as JobPayload<'evaluate-alerts'>;
    const now = payload.now ? new Date(payload.now) : new Date();
    const windows = await evaluateWindows(ds, taps.counters, jobs, now);
    const monitors = await detectMonitorProblems(ds, jobs, now);
    const signals = await processSignals(ds, jobs);
    const requeued = await requeuePending(ds, jobs);
    await pruneSignals(ds);
    const result = { ...windows, ...monitors, lateSignals: signals.processed, requeued };
    if (windows.fired || windows.recovered || monitors.missed || monitors.timedOut || signals.processed || requeued)
      log.info({ jobId: job.id, ...result }, 'alerts evaluated');
    return result;
  };
}

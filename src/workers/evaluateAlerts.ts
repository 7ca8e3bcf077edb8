import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { pruneSignals, requeuePending } from '../domain/alerts/sweep.ts';
import { detectMonitorProblems } from '../domain/alerts/checkIns.ts';
import { processSignals } from '../domain/alerts/signals.ts';
import type { AlertTaps } from '../domain/alerts/taps.ts';
import { evaluateWindows } from '../domain/alerts/windows.ts';
import type { Logger } from '../logger.ts';
import { JOBS, type QueueName } from '../queues/contract.ts';

/**
 * `evaluate-alerts` (repeatable, ALERT_EVALUATION_INTERVAL_MS): windowed rules against
 * their counters, missed and timed-out cron runs, then the sweep for what a crash left
 * behind (signals never handled, notifications never queued). Every part is idempotent,
 * so overlapping or retried runs change nothing twice.
 */
export function evaluateAlertsProcessor(ds: DataSource, queues: Record<QueueName, Queue>, taps: AlertTaps, log: Logger) {
  return async (job: Job) => {
    const parsed = JOBS['evaluate-alerts'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid evaluate-alerts payload: ${parsed.error.message.slice(0, 500)}`);
    const now = parsed.data.now ? new Date(parsed.data.now) : new Date();
    const windows = await evaluateWindows(ds, taps.counters, queues, now);
    const monitors = await detectMonitorProblems(ds, queues, now);
    const signals = await processSignals(ds, queues);
    const requeued = await requeuePending(ds, queues);
    await pruneSignals(ds);
    const result = { ...windows, ...monitors, lateSignals: signals.processed, requeued };
    if (windows.fired || windows.recovered || monitors.missed || monitors.timedOut || signals.processed || requeued) log.info({ jobId: job.id, ...result }, 'alerts evaluated');
    return result;
  };
}

import type { Job, Queue } from 'bullmq';
import type { QueueName } from '../../src/queues/contract.ts';
import { addJob } from '../../src/queues/producer.ts';
import type { JobName, JobPayload } from '../../src/queues/contract.ts';
import { eventually } from './stack.ts';

/** Adds a job and waits until a worker has finished it (completed or failed): proof that its work is done. */
export async function runJob<N extends JobName>(
  queues: Record<QueueName, Queue>,
  name: N,
  payload: JobPayload<N>,
  timeoutMs = 30_000,
): Promise<{ state: string; job: Job }> {
  const job = await addJob(queues, name, payload);
  return waitForJob(job, timeoutMs);
}

export async function waitForJob(job: Job, timeoutMs = 30_000): Promise<{ state: string; job: Job }> {
  const state = await eventually(async () => {
    const s = await job.getState();
    // Completed store jobs are removed at once (removeOnComplete); failed ones are kept.
    if (s === 'unknown') return 'completed';
    return s === 'completed' || s === 'failed' ? s : null;
  }, timeoutMs);
  return { state, job };
}

/** Waits until the queues hold nothing waiting, active or delayed. */
export async function drained(queues: Record<QueueName, Queue>, names: QueueName[], timeoutMs = 30_000): Promise<void> {
  await eventually(async () => {
    for (const n of names) {
      const c = await queues[n].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      if (Object.values(c).some((v) => v > 0)) return false;
    }
    return true;
  }, timeoutMs);
}

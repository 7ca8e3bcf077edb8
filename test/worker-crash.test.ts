/**
 * Invariant 2 under a real crash: a worker process SIGKILLed mid-queue. Its own file
 * (own queue prefix), because BullMQ's stalled-job check runs at the interval the
 * first worker on a queue set.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pantiesToRecord, PantiesEventSchema } from '../src/domain/ingest/formats/panties.ts';
import { addJob } from '../src/queues/producer.ts';
import { countEvents, eventually, startWeb, startWorker } from './helpers/stack.ts';
import { createUser, pantiesEvent } from './helpers/factories.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;

beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

const record = (projectId: number, fields: Record<string, unknown>) =>
  pantiesToRecord(PantiesEventSchema.parse(pantiesEvent(fields)), projectId, new Date().toISOString());

describe('worker crash mid-queue', () => {
  it('a worker killed with SIGKILL mid-queue loses nothing and duplicates nothing once another worker takes over', async () => {
    const u = await createUser(stack.web.ds);
    const JOBS = 60;
    const PER_JOB = 50;
    for (let j = 0; j < JOBS; j++) {
      // Three issues, their events spread over every job: a counter that drifted shows on each.
      const items = Array.from({ length: PER_JOB }, (_, i) =>
        record(u.personal.id, { event_id: `crash-${j}-${i}`, exception_type: `CrashError${i % 3}` }),
      );
      await addJob(stack.web.queues, 'store-events', { items });
    }

    // A real worker process, as `npm run worker` runs it, with short locks so stalled jobs come back fast.
    const runner = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
    const child = spawn(process.execPath, [runner, 'worker'], {
      env: { ...process.env, WORKER_CONCURRENCY: '2', WORKER_LOCK_DURATION_MS: '1500', WORKER_STALLED_INTERVAL_MS: '500' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await eventually(async () => (await countEvents(stack.web.ds, u.personal.id)) > 0, 30_000, 5);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const storedAtCrash = await countEvents(stack.web.ds, u.personal.id);
    expect(storedAtCrash).toBeLessThan(JOBS * PER_JOB); // it really died mid-queue

    const worker = await startWorker({ stalledIntervalMs: 500, lockDurationMs: 1500 });
    try {
      await eventually(async () => (await countEvents(stack.web.ds, u.personal.id)) === JOBS * PER_JOB, 45_000);
      await eventually(async () => {
        const c = await stack.web.queues.events.getJobCounts('waiting', 'active', 'delayed');
        return c.waiting + c.active + c.delayed === 0;
      });
      const [{ n, distinct }] = await stack.web.ds.query(
        'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct FROM events WHERE project_id = $1',
        [u.personal.id],
      );
      expect({ n, distinct }).toEqual({ n: JOBS * PER_JOB, distinct: JOBS * PER_JOB });
      expect((await stack.web.queues.events.getJobCounts('failed')).failed).toBe(0);
      // The unique index makes rows exactly-once; the counters are kept by the same statement
      // and must be too: times_seen and the hourly counters equal the rows, per issue.
      const issues: Array<{ seen: number; rows: number; hourly: number }> = await stack.web.ds.query(
        `SELECT i.times_seen::int AS seen,
                (SELECT count(*)::int FROM events e WHERE e.issue_id = i.id) AS rows,
                (SELECT coalesce(sum(h.n), 0)::int FROM issue_hourly h WHERE h.issue_id = i.id) AS hourly
           FROM issues i WHERE i.project_id = $1`,
        [u.personal.id],
      );
      expect(issues).toHaveLength(3);
      for (const i of issues) expect(i).toEqual({ seen: i.rows, rows: i.rows, hourly: i.rows });
      expect(issues.reduce((n, i) => n + i.rows, 0)).toBe(JOBS * PER_JOB);
    } finally {
      await worker.close();
    }
  });
});

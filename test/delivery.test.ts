/**
 * Invariant 2 (exactly-once effect): jobs are at-least-once, writes are idempotent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import { pantiesToRecord, PantiesEventSchema } from '../src/domain/ingest/formats/panties.ts';
import { logger } from '../src/logger.ts';
import { storeEventsProcessor } from '../src/workers/storeEvents.ts';
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

describe('idempotent storage', () => {
  it('the same client event_id sent twice is stored once', async () => {
    const u = await createUser(stack.web.ds);
    const worker = await startWorker();
    try {
      for (let i = 0; i < 2; i++) {
        const res = await stack.http
          .post('/api/events/')
          .set('Authorization', `Bearer ${u.apiKey}`)
          .send(pantiesEvent({ event_id: 'retry-me' }));
        expect(res.status).toBe(202);
      }
      // Completed jobs are removed at once; the workers' BullMQ metrics count them.
      await eventually(async () => Number((await stack.web.queues.events.getMetrics('completed', 0, 0)).meta.count) >= 2);
      expect(await countEvents(stack.web.ds, u.personal.id)).toBe(1);
    } finally {
      await worker.close();
    }
  });

  it('a re-delivered job inserts nothing the second time', async () => {
    const u = await createUser(stack.web.ds);
    const items = [record(u.personal.id, { event_id: 'r1' }), record(u.personal.id, { event_id: 'r2' })];
    const process = storeEventsProcessor(stack.web.ds, logger);
    const job = { id: 'x', data: { items } } as unknown as Job;
    expect(await process(job)).toEqual({ inserted: 2, duplicates: 0 });
    expect(await process(job)).toEqual({ inserted: 0, duplicates: 2 });
    expect(await countEvents(stack.web.ds, u.personal.id)).toBe(2);
  });

  it('a duplicate inside one batch is stored once and counted once in its issue', async () => {
    const u = await createUser(stack.web.ds);
    const same = record(u.personal.id, { event_id: 'twice', exception_type: 'DupError', message: 'dup' });
    const run = storeEventsProcessor(stack.web.ds, logger);
    expect(
      await run({
        id: 'd',
        data: { items: [same, same, record(u.personal.id, { event_id: 'once', exception_type: 'DupError', message: 'dup' })] },
      } as unknown as Job),
    ).toEqual({
      inserted: 2,
      duplicates: 1,
    });
    const [{ times_seen }] = await stack.web.ds.query('SELECT times_seen::int FROM issues WHERE project_id = $1', [u.personal.id]);
    expect(times_seen).toBe(2);
  });

  it("jobs stored together share a statement, but one job's bad data never fails another", async () => {
    const u = await createUser(stack.web.ds);
    const run = storeEventsProcessor(stack.web.ds, logger);
    const good = [record(u.personal.id, { event_id: 'good-1' }), record(u.personal.id, { event_id: 'good-2' })];
    // A record the database refuses (NUL in text), as if normalization had let it through.
    const bad = [record(u.personal.id, { event_id: 'fine' }), { ...record(u.personal.id, { event_id: 'nul' }), message: 'a\u0000b' }];
    const [a, b] = await Promise.allSettled([
      run({ id: 'a', data: { items: good } } as unknown as Job),
      run({ id: 'b', data: { items: bad } } as unknown as Job),
    ]);
    expect(a).toEqual({ status: 'fulfilled', value: { inserted: 2, duplicates: 0 } });
    expect(b).toMatchObject({ status: 'rejected', reason: { name: 'UnrecoverableError', message: expect.stringContaining('nul') } });
    const rows: Array<{ event_id: string }> = await stack.web.ds.query(
      'SELECT event_id FROM events WHERE project_id = $1 ORDER BY event_id',
      [u.personal.id],
    );
    expect(rows.map((r) => r.event_id)).toEqual(['fine', 'good-1', 'good-2']);
  });

  it('the same event_id in two projects is two events', async () => {
    const a = await createUser(stack.web.ds);
    const b = await createUser(stack.web.ds);
    const process = storeEventsProcessor(stack.web.ds, logger);
    const job = {
      id: 'y',
      data: { items: [record(a.personal.id, { event_id: 'shared' }), record(b.personal.id, { event_id: 'shared' })] },
    } as unknown as Job;
    expect(await process(job)).toEqual({ inserted: 2, duplicates: 0 });
  });

  it('events of a project deleted while they waited are dropped, not retried forever', async () => {
    const u = await createUser(stack.web.ds);
    const other = await createUser(stack.web.ds);
    const items = [record(u.personal.id, { event_id: 'gone' }), record(other.personal.id, { event_id: 'kept' })];
    await stack.web.ds.query('DELETE FROM projects WHERE id = $1', [u.personal.id]);
    const out = await storeEventsProcessor(stack.web.ds, logger)({ id: 'z', data: { items } } as unknown as Job);
    expect(out).toEqual({ inserted: 1, duplicates: 0 });
    expect(await countEvents(stack.web.ds, other.personal.id)).toBe(1);
  });

  it('a payload that does not match the contract fails at dispatch, without retries, and stays failed with its data', async () => {
    const worker = await startWorker();
    try {
      const job = await stack.web.queues.events.add('store-events', { items: [{ nope: true }] }, { attempts: 5 });
      // Fetched again once failed: a job read just before the move holds no failedReason yet.
      await eventually(async () => (await stack.web.queues.events.getJob(job.id!))?.isFailed());
      const failed = (await stack.web.queues.events.getJob(job.id!))!;
      expect(failed.failedReason).toMatch(/invalid store-events payload/);
      expect(failed.attemptsMade).toBe(1); // unrecoverable: not retried
      expect(failed.data).toEqual({ items: [{ nope: true }] });
    } finally {
      await worker.close();
    }
  });
});

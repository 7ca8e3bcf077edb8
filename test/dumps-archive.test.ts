import { ARCHIVE_DIR, DUMPS_DIR } from './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { config } from '../src/config.ts';
import { archiveDueDumps, type ArchiveContext } from '../src/domain/dumps/archive.ts';
import { BLOCK_BYTES, BlockGzipWriter, openArchived } from '../src/domain/dumps/blockGzip.ts';
import { archiveKey, liveKey } from '../src/domain/dumps/keys.ts';
import { expireDumps, sweepOrphans } from '../src/domain/dumps/retention.ts';
import { logger } from '../src/logger.ts';
import { workerConnection } from '../src/queues/connection.ts';
import { addJob } from '../src/queues/producer.ts';
import type { BlobStore } from '../src/storage/blobStore.ts';
import { dumpStores } from '../src/storage/index.ts';
import { scheduleDumpMaintenance } from '../src/workers/dumpSchedules.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { binary, dumpBytes, filesUnder, sha256 } from './helpers/dumps.ts';
import { env, eventually, startWeb, startWorker } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let ctx: ArchiveContext;
const stores = dumpStores();
beforeAll(async () => {
  stack = await startWeb();
  ctx = { ds: stack.web.ds, stores, log: logger };
});
afterAll(async () => {
  await stack?.web.close();
});

const livePath = (id: string) => path.join(DUMPS_DIR, id[0], id[1], id);
const archivePath = (id: string) => path.join(ARCHIVE_DIR, id[0], id[1], `${id}.gz`);
const noop = () => undefined;

async function uploadMany(u: TestUser, n: number, size: number, seed: number): Promise<Array<{ id: string; data: Buffer }>> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const data = dumpBytes(size, seed + i);
    const res = await stack.http.post('/api/dumps/').set('Authorization', `Bearer ${u.access}`).attach('file', data, `d${i}.dmp`);
    expect(res.status).toBe(201);
    out.push({ id: res.body.id as string, data });
  }
  return out;
}
const age = (projectId: number, days: number) =>
  stack.web.ds.query(`UPDATE crash_dumps SET "time" = now() - make_interval(days => $2) WHERE project_id = $1`, [projectId, days]);
const archiveRun = (u: TestUser) => archiveDueDumps(ctx, { olderThanDays: 30, projectIds: [u.personal.id] });
const downloaded = async (u: TestUser, id: string) =>
  sha256(
    (await stack.http.get(`/api/dumps/${id}/download/`).set('Authorization', `Bearer ${u.access}`).buffer(true).parse(binary))
      .body as Buffer,
  );
const row = async (id: string) => (await stack.web.ds.query(`SELECT archived, archived_at, info FROM crash_dumps WHERE id = $1`, [id]))[0];
/** An archive copy, written the way the archiver writes it. */
const writeArchiveCopy = async (id: string) =>
  stores.archive.put(archiveKey(id), pipeline(await stores.live.get(liveKey(id)), new BlockGzipWriter(), noop));

describe('archiving', () => {
  it("moves old dumps to the archive gzip'd; downloads give the same bytes; a second run does nothing", async () => {
    const u = await createUser(stack.web.ds);
    const [old1, old2] = await uploadMany(u, 2, 300_000, 1);
    await age(u.personal.id, 40);
    const [fresh] = await uploadMany(u, 1, 1000, 9);

    expect(await archiveRun(u)).toEqual({ archived: 2, resumed: 0, skipped: 0, failed: 0 });
    for (const d of [old1, old2]) {
      expect(await row(d.id)).toMatchObject({ archived: true, archived_at: expect.any(Date) });
      expect(existsSync(livePath(d.id))).toBe(false);
      expect(existsSync(archivePath(d.id))).toBe(true);
      expect(await downloaded(u, d.id)).toBe(sha256(d.data));
    }
    expect((await row(fresh.id)).archived).toBe(false);
    expect(existsSync(livePath(fresh.id))).toBe(true);
    expect(await archiveRun(u)).toEqual({ archived: 0, resumed: 0, skipped: 0, failed: 0 });
    expect(await archiveDueDumps(ctx, { olderThanDays: 0, projectIds: [u.personal.id] })).toMatchObject({ archived: 0 }); // 0 = never
  });

  it('resumes a run that died after writing the copy, before flagging the row', async () => {
    const u = await createUser(stack.web.ds);
    const [d] = await uploadMany(u, 1, 200_000, 20);
    await age(u.personal.id, 40);
    await writeArchiveCopy(d.id);
    expect(await archiveRun(u)).toMatchObject({ archived: 1 });
    expect(existsSync(livePath(d.id))).toBe(false);
    expect(await downloaded(u, d.id)).toBe(sha256(d.data));
  });

  it('resumes a run that died after removing the original, before committing', async () => {
    const u = await createUser(stack.web.ds);
    const [d] = await uploadMany(u, 1, 200_000, 30);
    await age(u.personal.id, 40);
    await writeArchiveCopy(d.id);
    await stores.live.delete(liveKey(d.id));
    expect(await archiveRun(u)).toMatchObject({ resumed: 1 });
    expect((await row(d.id)).archived).toBe(true);
    expect(await downloaded(u, d.id)).toBe(sha256(d.data));
  });

  it('a dump whose bytes are gone is noted, not archived, and does not stop the run', async () => {
    const u = await createUser(stack.web.ds);
    const [lost, ok] = await uploadMany(u, 2, 10_000, 40);
    await age(u.personal.id, 40);
    await stores.live.delete(liveKey(lost.id));
    expect(await archiveRun(u)).toMatchObject({ archived: 1, failed: 1 });
    expect(await row(lost.id)).toMatchObject({ archived: false, info: { archive_error: 'the dump bytes are missing' } });
    expect((await row(ok.id)).archived).toBe(true);
  });

  it('replacing or deleting an archived dump drops its archive copy', async () => {
    const u = await createUser(stack.web.ds);
    const [a, b] = await uploadMany(u, 2, 50_000, 50);
    await age(u.personal.id, 40);
    await archiveRun(u);
    const next = dumpBytes(1234, 99);
    const put = await stack.http.put(`/api/dumps/${a.id}/`).set('Authorization', `Bearer ${u.access}`).attach('file', next, 'new.dmp');
    expect(put.body).toMatchObject({ archived: false, archived_at: null, size: 1234 });
    expect(existsSync(archivePath(a.id))).toBe(false);
    expect(await downloaded(u, a.id)).toBe(sha256(next));
    expect((await stack.http.delete(`/api/dumps/${b.id}/`).set('Authorization', `Bearer ${u.access}`)).status).toBe(204);
    expect(existsSync(archivePath(b.id))).toBe(false);
  });

  it('a range on an archive reads one block, not the whole file', async () => {
    const data = dumpBytes(5 * BLOCK_BYTES + 10, 7);
    const key = '0/0/block-test.gz';
    await stores.archive.put(key, pipeline(Readable.from([data]), new BlockGzipWriter(), noop));
    let read = 0;
    const counting: BlobStore = Object.create(stores.archive);
    counting.get = async (k, range) => {
      const s = await stores.archive.get(k, range);
      s.on('data', (c: Buffer) => (read += c.length));
      return s;
    };
    const total = (await stores.archive.stat(key))!.size;
    const chunks: Buffer[] = [];
    for await (const c of await openArchived(counting, key, { start: 4 * BLOCK_BYTES + 5, end: 4 * BLOCK_BYTES + 9 }))
      chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(data.subarray(4 * BLOCK_BYTES + 5, 4 * BLOCK_BYTES + 10))).toBe(true);
    expect(read).toBeLessThan(total / 2);
    await stores.archive.delete(key);
  });
});

describe('retention and garbage', () => {
  it("deletes dumps (live or archived) older than their project's retention, bytes included", async () => {
    const u = await createUser(stack.web.ds);
    await stack.web.ds.query(`UPDATE projects SET retention_days = 10 WHERE id = $1`, [u.personal.id]);
    const [old, oldArchived] = await uploadMany(u, 2, 20_000, 60);
    await age(u.personal.id, 40);
    await archiveDueDumps(ctx, { olderThanDays: 30, projectIds: [u.personal.id], batchSize: 1 }).then(() => undefined);
    await stack.web.ds.query(`UPDATE crash_dumps SET archived = false, archived_at = NULL WHERE id = $1`, [old.id]); // keep one "live"
    writeFileSync(livePath(old.id), old.data);
    const [young] = await uploadMany(u, 1, 100, 70);
    expect(await expireDumps(ctx, { projectIds: [u.personal.id] })).toBe(2);
    for (const d of [old, oldArchived]) {
      expect(await row(d.id)).toBeUndefined();
      expect(existsSync(livePath(d.id)) || existsSync(archivePath(d.id))).toBe(false);
    }
    expect(await row(young.id)).toBeDefined();
    expect(await expireDumps(ctx, { projectIds: [u.personal.id] })).toBe(0);
  });

  it('sweeps bytes no row points to and abandoned temp files, and keeps everything referenced', async () => {
    const u = await createUser(stack.web.ds);
    const [kept] = await uploadMany(u, 1, 1000, 80);
    const orphan = '0123abcd-0000-4000-8000-000000000000';
    mkdirSync(path.dirname(livePath(orphan)), { recursive: true });
    writeFileSync(livePath(orphan), 'left by a crash between rename and commit');
    mkdirSync(path.dirname(archivePath(orphan)), { recursive: true });
    writeFileSync(archivePath(orphan), 'left by a deleted project');
    mkdirSync(path.join(ARCHIVE_DIR, '.tmp'), { recursive: true });
    writeFileSync(path.join(ARCHIVE_DIR, '.tmp', 'half.part'), 'interrupted archive copy');
    // Young files are left alone (an upload may be about to commit)…
    await sweepOrphans(ctx);
    expect(existsSync(livePath(orphan))).toBe(true);
    // …old ones go.
    expect(await sweepOrphans(ctx, { graceMs: 0 })).toBeGreaterThanOrEqual(3);
    expect(existsSync(livePath(orphan))).toBe(false);
    expect(existsSync(archivePath(orphan))).toBe(false);
    expect(filesUnder(path.join(ARCHIVE_DIR, '.tmp'))).toEqual([]);
    expect(existsSync(livePath(kept.id))).toBe(true);
  });
});

describe('the maintenance jobs', () => {
  it('are scheduled as repeatable jobs with the configured patterns', async () => {
    const redis = workerConnection(env().redisUrl);
    const queue = new Queue('dumps', { connection: redis, prefix: config.queuePrefix });
    try {
      await scheduleDumpMaintenance(redis);
      await scheduleDumpMaintenance(redis); // idempotent
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.pattern]).sort()).toEqual([
        ['archive-dumps', config.dumps.archiveSchedule],
        ['expire-dumps', config.dumps.retentionSchedule],
      ]);
    } finally {
      await queue.close();
      await redis.quit();
    }
  });

  it('run through the worker', async () => {
    const u = await createUser(stack.web.ds);
    const [d] = await uploadMany(u, 1, 5000, 90);
    await age(u.personal.id, 40);
    const worker = await startWorker();
    try {
      await addJob(stack.web.queues, 'archive-dumps', { older_than_days: 30, project_ids: [u.personal.id] });
      await eventually(async () => (await row(d.id)).archived);
      await stack.web.ds.query(`UPDATE projects SET retention_days = 1 WHERE id = $1`, [u.personal.id]);
      await addJob(stack.web.queues, 'expire-dumps', { project_ids: [u.personal.id] });
      await eventually(async () => !(await row(d.id)));
      expect(existsSync(archivePath(d.id))).toBe(false);
    } finally {
      await worker.close();
    }
  });

  it('a worker killed with SIGKILL mid-archive loses nothing: the next run finishes and every dump reads back identical', async () => {
    const u = await createUser(stack.web.ds);
    const N = 40;
    const dumps = await uploadMany(u, N, 1_500_000, 1000);
    await age(u.personal.id, 40);
    const archivedCount = async () =>
      (await stack.web.ds.query(`SELECT count(*)::int AS n FROM crash_dumps WHERE project_id = $1 AND archived`, [u.personal.id]))[0]
        .n as number;

    // A real worker process, as `npm run worker` runs it, killed as soon as it has archived something.
    const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/run.mjs', import.meta.url)), 'worker'], {
      env: { ...process.env, WORKER_CONCURRENCY: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await addJob(stack.web.queues, 'archive-dumps', { older_than_days: 30, project_ids: [u.personal.id] });
      await eventually(async () => (await archivedCount()) > 0, 45_000, 5);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const atCrash = await archivedCount();
    expect(atCrash).toBeLessThan(N); // it really died mid-way

    const run = await archiveRun(u);
    expect(run.archived + run.resumed).toBe(N - atCrash);
    expect(run.failed).toBe(0);
    expect(await archivedCount()).toBe(N);
    for (const d of dumps) {
      expect(existsSync(livePath(d.id))).toBe(false);
      expect(await downloaded(u, d.id)).toBe(sha256(d.data));
    }
    await sweepOrphans(ctx, { graceMs: 0 }); // the half-written copy the kill left behind, if any
    expect(filesUnder(path.join(ARCHIVE_DIR, '.tmp'))).toEqual([]);
    expect(await archiveRun(u)).toEqual({ archived: 0, resumed: 0, skipped: 0, failed: 0 });
  }, 120_000);
});

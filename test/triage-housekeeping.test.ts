/**
 * Issue 12 housekeeping: `prune-triage` drops old session marks and hourly issue counters
 * and the chunks sentry-cli uploaded but never assembled — through a real worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { pruneTriageProcessor } from '../src/workers/pruneTriage.ts';
import { logger } from '../src/logger.ts';
import { LocalDiskStore } from '../src/storage/localDisk.ts';
import { createUser } from './helpers/factories.ts';
import { startWeb } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let dir: string;
beforeAll(async () => {
  stack = await startWeb();
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-prune-'));
});
afterAll(async () => {
  await stack.web.close();
  rmSync(dir, { recursive: true, force: true });
});

it('prunes old session marks, old hourly counters and stale chunks; keeps the rest', async () => {
  const ds = stack.web.ds;
  const u = await createUser(ds);
  const p = u.personal.id;
  await ds.query(
    `INSERT INTO session_marks (project_id, sid, mark, created_at) VALUES ($1, 'old', 'started', now() - interval '100 days'), ($1, 'new', 'started', now())`,
    [p],
  );
  const [{ id: issue }] = await ds.query(
    `INSERT INTO issues (project_id, fingerprint, title, level, first_seen, last_seen) VALUES ($1, repeat('b', 64), 't', 'error', now(), now()) RETURNING id`,
    [p],
  );
  await ds.query(
    `INSERT INTO issue_hourly (issue_id, bucket, n) VALUES ($1, now() - interval '40 days', 3), ($1, date_trunc('hour', now()), 1)`,
    [issue],
  );
  const store = new LocalDiskStore(dir);
  await store.put('chunks/aa/' + 'a'.repeat(40), Readable.from([Buffer.from('x')]));
  await store.put('files/bb/kept', Readable.from([Buffer.from('y')]));

  const run = pruneTriageProcessor(ds, store, logger);
  // chunk_max_age_ms 0: every chunk is stale now (file times cannot be set back).
  const result = await run({ id: '1', data: { chunk_max_age_ms: 0 } } as never);
  expect(result).toMatchObject({ chunks: 1 });
  expect((await ds.query(`SELECT sid FROM session_marks WHERE project_id = $1`, [p])).map((r: { sid: string }) => r.sid)).toEqual(['new']);
  expect((await ds.query(`SELECT n FROM issue_hourly WHERE issue_id = $1`, [issue])).map((r: { n: string }) => Number(r.n))).toEqual([1]);
  expect(await store.stat('chunks/aa/' + 'a'.repeat(40))).toBeNull();
  expect(await store.stat('files/bb/kept')).not.toBeNull();
  // With the default age, a fresh chunk stays.
  await store.put('chunks/cc/' + 'c'.repeat(40), Readable.from([Buffer.from('z')]));
  await run({ id: '2', data: {} } as never);
  expect(await store.stat('chunks/cc/' + 'c'.repeat(40))).not.toBeNull();
  await expect(run({ id: '3', data: { chunk_max_age_ms: -1 } } as never)).rejects.toThrow(/invalid prune-triage payload/);
});

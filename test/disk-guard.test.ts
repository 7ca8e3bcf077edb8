/**
 * The disk guard: dump uploads, Sentry minidumps and envelope attachments are refused with
 * 507 + Retry-After before a byte is written while their volume has less free space than
 * the threshold. The threshold is config, read at import: here it asks for 100 % free,
 * which no real volume has.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DUMPS_DIR } from './helpers/dumpsEnv.ts';

const ARTIFACTS_DIR = mkdtempSync(path.join(process.env.TEST_TMP_DIR ?? tmpdir(), 'artifacts-'));
process.env.ARTIFACTS_DIR = ARTIFACTS_DIR;
process.env.DISK_MIN_FREE_PERCENT = '100';
process.env.DISK_RETRY_AFTER_SECONDS = '42';
const { listen, startWeb } = await import('./helpers/stack.ts');
const { createUser } = await import('./helpers/factories.ts');
const { filesUnder, dumpRows } = await import('./helpers/dumps.ts');
const { buildMinidump } = await import('./helpers/minidump.ts');
const { createApiKey } = await import('../src/domain/projects/projects.ts');
const { DiskGuard, volumeOf } = await import('../src/domain/quotas/index.ts');

let stack: Awaited<ReturnType<typeof startWeb>>;
let base: string;
beforeAll(async () => {
  stack = await startWeb();
  base = await listen(stack.web);
});
afterAll(async () => {
  await stack.web.close();
});

const refusedForSpace = (status: number, headers: Headers | Record<string, string>) => {
  expect(status).toBe(507);
  expect(headers instanceof Headers ? headers.get('retry-after') : headers['retry-after']).toBe('42');
};

describe('when the volume is under the threshold', () => {
  it('POST /api/dumps/ answers 507 + Retry-After and writes nothing', async () => {
    const u = await createUser(stack.web.ds);
    const { secret } = await createApiKey(stack.web.ds.manager, u.personal.id, {
      name: 'uploader',
      scopes: ['dumps:upload'],
      createdById: null,
    });
    const res = await stack.http.post('/api/dumps/').set('Authorization', `Bearer ${secret}`).attach('file', buildMinidump(), 'app.dmp');
    refusedForSpace(res.status, res.headers as Record<string, string>);
    expect(res.body).toMatchObject({ code: 'insufficient_storage', details: { min_free_percent: 100 } });
    expect(filesUnder(DUMPS_DIR)).toEqual([]);
    expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
  });

  it('a new file for an existing dump (PUT /api/dumps/{id}/) answers 507 and keeps the old one', async () => {
    const u = await createUser(stack.web.ds);
    // The existing dump arrives while the guard is (for this one upload) satisfied.
    const guard = stack.web.disk;
    const assertRoom = guard.assertRoom;
    guard.assertRoom = async () => undefined;
    let id: string;
    try {
      id = (
        await stack.http
          .post(`/api/dumps/?project=${u.personal.id}`)
          .set('Authorization', `Bearer ${u.access}`)
          .attach('file', buildMinidump(), 'v1.dmp')
          .expect(201)
      ).body.id;
    } finally {
      guard.assertRoom = assertRoom;
    }
    const before = filesUnder(DUMPS_DIR);
    const res = await stack.http
      .put(`/api/dumps/${id}/`)
      .set('Authorization', `Bearer ${u.access}`)
      .attach('file', buildMinidump({ modules: ['b.exe'] }), 'v2.dmp');
    refusedForSpace(res.status, res.headers as Record<string, string>);
    expect(filesUnder(DUMPS_DIR)).toEqual(before);
    const [row] = await stack.web.ds.query(`SELECT original_name FROM crash_dumps WHERE id = $1`, [id]);
    expect(row.original_name).toBe('v1.dmp');
  });

  it('a Sentry minidump answers 507 and writes nothing', async () => {
    const u = await createUser(stack.web.ds);
    const before = filesUnder(DUMPS_DIR);
    const res = await fetch(`${base}/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`, { method: 'POST', body: buildMinidump() });
    refusedForSpace(res.status, res.headers);
    expect(filesUnder(DUMPS_DIR)).toEqual(before);
    expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
  });

  it('an envelope with an attachment answers 507 and writes nothing; one without is accepted', async () => {
    const u = await createUser(stack.web.ds);
    const url = `${base}/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`;
    const event = JSON.stringify({ message: 'with a file', level: 'error' });
    const withFile = [
      JSON.stringify({}),
      JSON.stringify({ type: 'event' }),
      event,
      JSON.stringify({ type: 'attachment', length: 5, filename: 'a.txt' }),
      'hello',
      '',
    ].join('\n');
    refusedForSpace(...((r) => [r.status, r.headers] as const)(await fetch(url, { method: 'POST', body: withFile })));
    expect(filesUnder(ARTIFACTS_DIR)).toEqual([]);
    const plain = [JSON.stringify({}), JSON.stringify({ type: 'event' }), event, ''].join('\n');
    expect((await fetch(url, { method: 'POST', body: plain })).status).toBe(200);
  });
});

describe('DiskGuard', () => {
  it('passes above the thresholds and refuses below them', async () => {
    const free = (await volumeOf(DUMPS_DIR)).freeBytes;
    await expect(
      new DiskGuard({ minFreeBytes: 0, minFreePercent: 0, retryAfterSeconds: 1 }).assertRoom(DUMPS_DIR),
    ).resolves.toBeUndefined();
    await expect(
      new DiskGuard({ minFreeBytes: free * 2, minFreePercent: 0, retryAfterSeconds: 1 }).assertRoom(DUMPS_DIR),
    ).rejects.toMatchObject({ status: 507 });
    // A folder not made yet is judged by the volume it will be on.
    await expect(
      new DiskGuard({ minFreeBytes: free * 2, minFreePercent: 0, retryAfterSeconds: 1 }).assertRoom(path.join(DUMPS_DIR, 'not', 'yet')),
    ).rejects.toMatchObject({ status: 507 });
  });
});

describe('/metrics', () => {
  it("reports PostgreSQL's database size and each data volume's free space", async () => {
    const text = (await stack.http.get('/metrics')).text;
    const db = /^faultline_database_size_bytes (\d+)$/m.exec(text);
    expect(Number(db?.[1])).toBeGreaterThan(1_000_000);
    const free = /^faultline_volume_free_bytes\{volume="dumps"\} (\d+)$/m.exec(text);
    expect(Number(free?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^faultline_volume_total_bytes\{volume="artifacts"\} \d+$/m);
  });
});

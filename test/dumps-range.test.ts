import { ARCHIVE_DIR, DUMPS_DIR } from './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { archiveDueDumps } from '../src/domain/dumps/archive.ts';
import { BLOCK_BYTES } from '../src/domain/dumps/blockGzip.ts';
import { logger } from '../src/logger.ts';
import { dumpStores } from '../src/storage/index.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { binary, dumpBytes, sha256 } from './helpers/dumps.ts';
import { startWeb } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let user: TestUser;
// Over two archive blocks, and not a multiple of one, so ranges cross block edges and end mid-block.
const data = dumpBytes(2 * BLOCK_BYTES + 123_457, 42);
const size = data.length;
let id: string;

beforeAll(async () => {
  stack = await startWeb();
  user = await createUser(stack.web.ds);
  const res = await stack.http.post('/api/dumps/').set('Authorization', `Bearer ${user.access}`).attach('file', data, 'ranged.dmp');
  expect(res.status).toBe(201);
  id = res.body.id;
});
afterAll(async () => {
  await stack?.web.close();
});

const get = (headers: Record<string, string> = {}) =>
  stack.http
    .get(`/api/dumps/${id}/download/`)
    .set({ Authorization: `Bearer ${user.access}`, ...headers })
    .buffer(true)
    .parse(binary);

const RANGES: Array<[string, string, number, number]> = [
  ['the first bytes', 'bytes=0-9', 0, 9],
  ['a suffix', 'bytes=-100', size - 100, size - 1],
  ['across the first block edge', `bytes=${BLOCK_BYTES - 50}-${BLOCK_BYTES + 49}`, BLOCK_BYTES - 50, BLOCK_BYTES + 49],
  ['exactly the second block', `bytes=${BLOCK_BYTES}-${2 * BLOCK_BYTES - 1}`, BLOCK_BYTES, 2 * BLOCK_BYTES - 1],
  ['open-ended, from inside the last block', `bytes=${2 * BLOCK_BYTES + 1000}-`, 2 * BLOCK_BYTES + 1000, size - 1],
  ['an end past the file (clamped)', `bytes=${size - 10}-${size + 1000}`, size - 10, size - 1],
  ['overlapping ranges (combined into one)', 'bytes=0-99,50-149', 0, 149],
];

describe.each(['live', 'archived'] as const)('Range requests on a %s dump', (state) => {
  beforeAll(async () => {
    if (state !== 'archived') return;
    await stack.web.ds.query(`UPDATE crash_dumps SET "time" = now() - interval '40 days' WHERE id = $1`, [id]);
    const run = await archiveDueDumps(
      { ds: stack.web.ds, stores: dumpStores(), log: logger },
      { olderThanDays: 30, projectIds: [user.personal.id] },
    );
    expect(run.archived).toBeGreaterThanOrEqual(1);
    // The original is gone; the archive is a gzip file any tool can read.
    expect(existsSync(path.join(DUMPS_DIR, id[0], id[1], id))).toBe(false);
    expect(sha256(gunzipSync(readFileSync(path.join(ARCHIVE_DIR, id[0], id[1], `${id}.gz`))))).toBe(sha256(data));
  });

  it('the whole file, with Accept-Ranges', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(sha256(res.body as Buffer)).toBe(sha256(data));
  });

  it.each(RANGES)('%s (%s) → 206 with exactly those bytes', async (_what, header, start, end) => {
    const res = await get({ Range: header });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expect((res.body as Buffer).equals(data.subarray(start, end + 1))).toBe(true);
  });

  it('an unsatisfiable range is 416 with the size', async () => {
    const res = await get({ Range: `bytes=${size}-` });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${size}`);
  });

  it('several disjoint ranges, a malformed header or a stale If-Range get the whole file', async () => {
    const cases: Array<Record<string, string>> = [
      { Range: 'bytes=0-1,100-101' },
      { Range: 'lines=1-2' },
      { Range: 'bytes=0-9', 'If-Range': '"stale"' },
    ];
    for (const headers of cases) {
      const res = await get(headers);
      expect(res.status).toBe(200);
      expect((res.body as Buffer).length).toBe(size);
    }
  });

  it('If-Range with the current ETag honours the range; If-None-Match answers 304; HEAD has headers only', async () => {
    const etag = `"${sha256(data)}"`;
    expect((await get({ Range: 'bytes=5-6', 'If-Range': etag })).status).toBe(206);
    expect((await get({ 'If-None-Match': etag })).status).toBe(304);
    const head = await stack.http.head(`/api/dumps/${id}/download/`).set('Authorization', `Bearer ${user.access}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(size));
  });

  it(`metadata says ${state}`, async () => {
    const res = await stack.http.get(`/api/dumps/${id}/`).set('Authorization', `Bearer ${user.access}`);
    expect(res.body.archived).toBe(state === 'archived');
    expect(res.body.archived_at === null).toBe(state === 'live');
    expect(res.body.sha256).toBe(sha256(data));
  });
});

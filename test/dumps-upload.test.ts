import { ARCHIVE_DIR, DUMPS_DIR, MAX_BYTES } from './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { peek } from '../src/domain/dumps/streams.ts';
import { createUser } from './helpers/factories.ts';
import { binary, dumpBytes, dumpRows, filesUnder, sha256, uploadCredentials } from './helpers/dumps.ts';
import { multipart } from './helpers/multipart.ts';
import { eventually, listen, startWeb } from './helpers/stack.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let base: string;
beforeAll(async () => {
  stack = await startWeb();
  base = await listen(stack.web);
});
afterAll(async () => {
  await stack?.web.close();
});

const livePath = (id: string) => path.join(DUMPS_DIR, id[0], id[1], id);
/** Built by hand so the file name goes out exactly as given (form-data would strip directories). */
const upload = (access: string, data: Buffer, filename: string, fields: Record<string, string> = {}) => {
  const form = multipart([...Object.entries(fields).map(([name, value]) => ({ name, value })), { name: 'file', filename, data }]);
  return stack.http.post('/api/dumps/').set('Authorization', `Bearer ${access}`).set('Content-Type', form.contentType).send(form.body);
};
const download = (access: string, id: string) =>
  stack.http.get(`/api/dumps/${id}/download/`).set('Authorization', `Bearer ${access}`).buffer(true).parse(binary);

describe('upload round trip', () => {
  it.each([
    ['a small file', 11, 'crash.dmp'],
    ['an empty file', 0, 'empty.dmp'],
    ['a large file', 12 * 1024 * 1024 + 17, 'big.dmp'],
    ['a non-ASCII name', 4096, 'crash-日本語-é ü.dmp'],
    ['a path-like name', 4096, '../../../../etc/passwd'],
    ['a Windows path', 4096, 'C:\\Users\\ops\\Desktop\\app.dmp'],
  ])('%s: 201 with seed 4 fields, bytes on disk at <c1>/<c2>/<uuid>, identical download', async (_what, size, filename) => {
    const u = await createUser(stack.web.ds);
    const data = dumpBytes(size, size);
    const res = await upload(u.access, data, filename, { label: 'nightly' });
    expect(res.status).toBe(201);
    const d = res.body;
    expect(Object.keys(d)).toEqual(
      expect.arrayContaining(['id', 'original_name', 'stored_name', 'time', 'label', 'archived', 'size', 'sha256', 'project', 'info']),
    );
    expect(d).toMatchObject({
      original_name: filename,
      stored_name: d.id,
      label: 'nightly',
      archived: false,
      size,
      sha256: sha256(data),
      project: u.personal.id,
    });
    expect(res.headers.location).toBe(`/api/dumps/${d.id}/`);
    // original_name never became a path: the bytes are exactly where the uuid says.
    expect(sha256(readFileSync(livePath(d.id)))).toBe(sha256(data));
    expect(existsSync(path.join(DUMPS_DIR, 'etc'))).toBe(false);
    const got = await download(u.access, d.id);
    expect(got.status).toBe(200);
    expect(sha256(got.body as Buffer)).toBe(sha256(data));
    expect(got.headers['content-length']).toBe(String(size));
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers.etag).toBe(`"${sha256(data)}"`);
  });

  it('Content-Disposition: the base name, with RFC 5987 filename* for non-ASCII', async () => {
    const u = await createUser(stack.web.ds);
    const a = await upload(u.access, Buffer.from('x'), 'crash-日本語-é.dmp');
    expect((await download(u.access, a.body.id)).headers['content-disposition']).toBe(
      `attachment; filename=crash-___-e.dmp; filename*=UTF-8''crash-%E6%97%A5%E6%9C%AC%E8%AA%9E-%C3%A9.dmp`,
    );
    const b = await upload(u.access, Buffer.from('x'), '../../etc/passwd');
    expect((await download(u.access, b.body.id)).headers['content-disposition']).toBe('attachment; filename=passwd');
    const c = await upload(u.access, Buffer.from('x'), 'my crash (1).dmp');
    expect((await download(u.access, c.body.id)).headers['content-disposition']).toBe('attachment; filename="my crash (1).dmp"');
  });

  it('a gzip-compressed file is stored decompressed (checksum and size of the dump itself)', async () => {
    const u = await createUser(stack.web.ds);
    const data = dumpBytes(300_000, 3);
    const res = await upload(u.access, gzipSync(data), 'app.dmp.gz');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ size: data.length, sha256: sha256(data), original_name: 'app.dmp.gz', info: { uploaded_gzip: true } });
    const got = await download(u.access, res.body.id);
    expect(sha256(got.body as Buffer)).toBe(sha256(data));
    expect(got.headers['content-disposition']).toBe('attachment; filename=app.dmp');
  });

  it('a gzip-compressed request body (Content-Encoding: gzip) is accepted', async () => {
    const u = await createUser(stack.web.ds);
    const data = dumpBytes(200_000, 4);
    const form = multipart([
      { name: 'label', value: 'gz-body' },
      { name: 'file', filename: 'body.dmp', data },
    ]);
    const res = await stack.http
      .post('/api/dumps/')
      .set('Authorization', `Bearer ${u.access}`)
      .set('Content-Type', form.contentType)
      .set('Content-Encoding', 'gzip')
      .send(gzipSync(form.body));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ size: data.length, sha256: sha256(data), label: 'gz-body' });
  });

  it('a file that starts like gzip but is not: 400, nothing stored', async () => {
    const u = await createUser(stack.web.ds);
    const res = await upload(u.access, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(1000, 7)]), 'fake.gz');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_gzip');
    expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
  });

  it('bad forms are 4xx and store nothing', async () => {
    const u = await createUser(stack.web.ds);
    const auth = { Authorization: `Bearer ${u.access}` };
    expect((await stack.http.post('/api/dumps/').set(auth).field('label', 'x')).body.code).toBe('file_required');
    expect((await stack.http.post('/api/dumps/').set(auth).send({ file: 'x' })).status).toBe(415);
    const two = await stack.http
      .post('/api/dumps/')
      .set(auth)
      .attach('file', Buffer.from('a'), 'a.dmp')
      .attach('file', Buffer.from('b'), 'b.dmp');
    expect(two.body.code).toBe('too_many_files');
    const other = await stack.http.post('/api/dumps/').set(auth).attach('dump', Buffer.from('a'), 'a.dmp');
    expect(other.body.code).toBe('unexpected_file');
    const longLabel = await upload(u.access, Buffer.from('a'), 'a.dmp', { label: 'x'.repeat(256) });
    expect(longLabel.status).toBe(400);
    expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
    await eventually(async () => filesUnder(path.join(DUMPS_DIR, '.tmp')).length === 0);
  });
});

describe('peek (how the gzip magic is sniffed without consuming the stream)', () => {
  it('puts the bytes back, works on short and ended streams, and fails fast on a destroyed one', async () => {
    const read = async (s: NodeJS.ReadableStream) => {
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    };
    const long = await peek(Readable.from([Buffer.from('he'), Buffer.from('llo')]), 2);
    expect([long.head.toString(), await read(long.stream)]).toEqual(['he', 'hello']);
    const short = await peek(Readable.from([Buffer.from('x')]), 2);
    expect([short.head.toString(), await read(short.stream)]).toEqual(['x', 'x']);
    const empty = await peek(Readable.from([]), 2);
    expect([empty.head.length, await read(empty.stream)]).toEqual([0, '']);
    // The caller arrives a tick late, after the form was refused and the part destroyed.
    const gone = new PassThrough().on('error', () => undefined);
    gone.destroy(new Error('refused'));
    await new Promise((r) => setImmediate(r));
    await expect(peek(gone, 2)).rejects.toThrow('refused');
  });
});

describe('limits and failures', () => {
  it('a file over DUMPS_MAX_BYTES is 413 and its partial file is removed', async () => {
    const u = await createUser(stack.web.ds);
    const before = filesUnder(DUMPS_DIR);
    const res = await upload(u.access, Buffer.alloc(MAX_BYTES + 1, 1), 'huge.dmp');
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
    expect(filesUnder(DUMPS_DIR)).toEqual(before);
  });

  it('a gzip bomb is cut off at the limit (decompressed size counts)', async () => {
    const u = await createUser(stack.web.ds);
    const bomb = gzipSync(Buffer.alloc(MAX_BYTES * 2));
    expect(bomb.length).toBeLessThan(100_000);
    const res = await upload(u.access, bomb, 'bomb.gz');
    expect(res.status).toBe(413);
    expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
  });

  it('a declared Content-Length over the limit is refused before reading', async () => {
    const u = await createUser(stack.web.ds);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/dumps/`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${u.access}`,
          'Content-Type': 'multipart/form-data; boundary=x',
          'Content-Length': String(MAX_BYTES * 4),
        },
      });
      req.on('response', (res) => {
        res.resume();
        req.destroy(); // we never meant to send the rest
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('--x\r\n');
    });
    expect(status).toBe(413);
  });

  const newFiles = (before: string[]) => filesUnder(DUMPS_DIR).filter((f) => !before.includes(f));
  it.each([
    // Cut 4 MiB before the end: the server is mid-way through writing its temp file.
    [
      'mid-file',
      (form: ReturnType<typeof multipart>) => form.body.length - 4 * 1024 * 1024,
      (f: string[]) => f.some((x) => x.startsWith('.tmp')),
    ],
    // Cut inside the closing boundary: the file is already renamed into place, the form is not complete.
    [
      'after the file, before the form ends',
      (form: ReturnType<typeof multipart>) => form.body.length - 30,
      (f: string[]) => f.some((x) => !x.startsWith('.tmp')),
    ],
  ])('a client that aborts %s leaves no file and no row', async (_when, cut, streaming) => {
    const u = await createUser(stack.web.ds);
    const form = multipart([
      { name: 'file', filename: 'aborted.dmp', data: dumpBytes(8 * 1024 * 1024, 9) },
      { name: 'label', value: 'late' },
    ]);
    const before = filesUnder(DUMPS_DIR);
    let sawPartial = false;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${base}/api/dumps/`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${u.access}`, 'Content-Type': form.contentType, 'Content-Length': String(form.body.length) },
      });
      req.on('error', () => resolve());
      req.write(form.head(cut(form)), () => {
        // Vanish once the server has stored some of it.
        eventually(async () => streaming(newFiles(before))).then(
          () => ((sawPartial = true), req.destroy(), resolve()),
          () => (req.destroy(), resolve()),
        );
      });
    });
    expect(sawPartial).toBe(true); // the abort really came while the server held partial data
    await eventually(async () => JSON.stringify(filesUnder(DUMPS_DIR)) === JSON.stringify(before));
    await new Promise((r) => setTimeout(r, 200));
    expect(filesUnder(DUMPS_DIR)).toEqual(before);
    expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
  });

  it('an unwritable dumps folder answers 503 with Retry-After and records nothing', async () => {
    const u = await createUser(stack.web.ds);
    const tmp = path.join(DUMPS_DIR, '.tmp');
    mkdirSync(DUMPS_DIR, { recursive: true });
    rmSync(tmp, { recursive: true, force: true });
    writeFileSync(tmp, 'not a folder'); // every write now fails as on a broken disk (root ignores permissions)
    try {
      const res = await upload(u.access, dumpBytes(100_000), 'x.dmp');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('30');
      expect(res.body.code).toBe('storage_unavailable');
      expect(await dumpRows(stack.web.ds, u.personal.id)).toEqual([]);
    } finally {
      rmSync(tmp, { force: true });
    }
    expect((await upload(u.access, Buffer.from('ok'), 'x.dmp')).status).toBe(201);
  });
});

describe("seed 4's flow", () => {
  it('client-token → upload → list → by-label → download → patch → put → delete', async () => {
    const owner = await createUser(stack.web.ds);
    const projectId = owner.personal.id;
    const { machine } = await uploadCredentials(stack.web.ds, stack.http, projectId);
    const first = dumpBytes(50_000, 11);

    // The C++ uploader: machine token, multipart file + label.
    const up = await stack.http
      .post('/api/dumps/')
      .set('Authorization', `Bearer ${machine}`)
      .field('label', 'v1.2.3')
      .attach('file', first, 'app.dmp');
    expect(up.status).toBe(201);
    const id = up.body.id;
    expect(up.body.uploader).toMatchObject({ kind: 'machine' });

    const auth = { Authorization: `Bearer ${owner.access}` };
    const list = await stack.http.get('/api/dumps/').set(auth);
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 1, next: null, previous: null, results: [{ id, label: 'v1.2.3', original_name: 'app.dmp' }] });
    const byLabel = await stack.http.get('/api/dumps/by-label/v1.2.3/').set(auth);
    expect(byLabel.body.results.map((d: { id: string }) => d.id)).toEqual([id]);
    expect((await stack.http.get('/api/dumps/by-label/other/').set(auth)).body.count).toBe(0);
    expect(sha256((await download(owner.access, id)).body as Buffer)).toBe(sha256(first));

    // PATCH the label (JSON, as DRF clients send), then the file (multipart).
    const relabel = await stack.http.patch(`/api/dumps/${id}/`).set(auth).send({ label: 'triaged' });
    expect(relabel.body).toMatchObject({ id, label: 'triaged', sha256: sha256(first) });
    const second = dumpBytes(70_000, 12);
    const refile = await stack.http.patch(`/api/dumps/${id}/`).set(auth).attach('file', second, 'app-2.dmp');
    expect(refile.status).toBe(200);
    expect(refile.body).toMatchObject({
      id,
      stored_name: id,
      label: 'triaged',
      original_name: 'app-2.dmp',
      size: second.length,
      sha256: sha256(second),
    });
    expect(sha256((await download(owner.access, id)).body as Buffer)).toBe(sha256(second));

    // PUT replaces file and label.
    const third = dumpBytes(10_000, 13);
    const put = await stack.http.put(`/api/dumps/${id}/`).set(auth).field('label', 'final').attach('file', third, 'app-3.dmp');
    expect(put.body).toMatchObject({ id, label: 'final', size: third.length });
    expect((await stack.http.put(`/api/dumps/${id}/`).set(auth).send({ label: 'x' })).body.code).toBe('file_required');
    // Replaced versions leave nothing behind but the current file.
    expect(
      filesUnder(DUMPS_DIR)
        .filter((f) => !f.startsWith('.tmp'))
        .filter((f) => f.endsWith(id)),
    ).toEqual([path.join(id[0], id[1], id)]);

    const del = await stack.http.delete(`/api/dumps/${id}/`).set(auth);
    expect(del.status).toBe(204);
    expect(existsSync(livePath(id))).toBe(false);
    expect((await stack.http.get(`/api/dumps/${id}/`).set(auth)).status).toBe(404);
    expect((await stack.http.get(`/api/dumps/${id}/download/`).set(auth)).status).toBe(404);
  });

  it('list filters: project, label, archived, date range; pages and cursors', async () => {
    const u = await createUser(stack.web.ds);
    const auth = { Authorization: `Bearer ${u.access}` };
    for (let i = 0; i < 5; i++)
      expect((await upload(u.access, Buffer.from(`d${i}`), `d${i}.dmp`, { label: i % 2 ? 'odd' : 'even' })).status).toBe(201);
    await stack.web.ds.query(`UPDATE crash_dumps SET "time" = '2024-03-01T10:00:00Z' WHERE project_id = $1 AND original_name = 'd0.dmp'`, [
      u.personal.id,
    ]);
    const q = (qs: string) => stack.http.get(`/api/dumps/?project=${u.personal.id}&${qs}`).set(auth);
    expect((await q('')).body.count).toBe(5);
    expect((await q('label=odd')).body.count).toBe(2);
    expect((await q('archived=true')).body.count).toBe(0);
    expect((await q('date_to=2024-03-01')).body.results.map((d: { original_name: string }) => d.original_name)).toEqual(['d0.dmp']);
    expect((await q('date_from=2024-03-02')).body.count).toBe(4);
    const page1 = await q('page_size=2');
    expect(page1.body.results).toHaveLength(2);
    expect(page1.body.next).toContain('page=2');
    const c1 = await q('page_size=3&cursor=');
    const c2 = await stack.http.get(new URL(c1.body.next).pathname + new URL(c1.body.next).search).set(auth);
    const ids = [...c1.body.results, ...c2.body.results].map((d: { id: string }) => d.id);
    expect(new Set(ids).size).toBe(5);
    expectError(await q('cursor=garbage'), 400, 'invalid_cursor');
  });

  it('nothing stray is left in the archive folder by uploads', () => {
    expect(filesUnder(ARCHIVE_DIR)).toEqual([]);
  });
});

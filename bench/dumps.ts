/**
 * `npm run bench:dumps` — crash dump uploads (issue 5), through the public API:
 *
 *  1. one large upload (default 1 GiB) vs a dd-style sequential write (256 KiB writes +
 *     fsync) of the same size on the same disk, in the same run. Target: ≥ 50 %.
 *  2. the web process's RSS during that upload (its own /metrics): idle, peak, and the
 *     growth the upload causes. Target: < 150 MB. The idle web process already holds
 *     AdminJS (~190 MB in production, ~380 MB in development where the SWC/TypeScript
 *     loader is loaded too), so the target is checked against the growth, and the
 *     absolute figures are printed beside it.
 *  3. 20 concurrent 50 MB uploads: wall time, aggregate MB/s, peak RSS.
 *
 * Every upload is checked: 201, and the sha256 the server computed is the client's.
 * Absolute numbers depend on the machine; quote the ratio.
 *
 *   npm run bench:dumps -- [--size-mb 1024] [--concurrent 20] [--each-mb 50] [--url URL --dumps-dir DIR]
 *
 * Target: --url (then --dumps-dir names a folder on the server's DUMPS_DIR disk for the dd
 * baseline); else a running `npm start`; else a throwaway stack (`npm start` in a temp
 * DATA_DIR with DUMPS_MAX_BYTES=4gb), stopped at the end. The server must accept
 * --size-mb (DUMPS_MAX_BYTES).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createBenchProject, fmt, table } from './lib.ts';
import { cleanup, onCleanup, root, startThrowawayStack } from './stack.ts';

const say = (msg: string) => process.stdout.write(`[bench:dumps] ${msg}\n`);
const MiB = 1024 * 1024;
const TARGET_RATIO = 0.5;
const TARGET_RSS_MB = 150;

const { values: flags } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '1024' },
    concurrent: { type: 'string', default: '20' },
    'each-mb': { type: 'string', default: '50' },
    url: { type: 'string' },
    'dumps-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  process.stdout.write('npm run bench:dumps -- [--size-mb 1024] [--concurrent 20] [--each-mb 50] [--url URL --dumps-dir DIR]\n');
  process.exit(0);
}
const sizeBytes = Number(flags['size-mb']) * MiB;
const concurrent = Number(flags.concurrent);
const eachBytes = Number(flags['each-mb']) * MiB;
if (![sizeBytes, concurrent, eachBytes].every((n) => Number.isInteger(n) && n > 0))
  throw new Error('--size-mb, --concurrent and --each-mb: positive integers');

interface Target {
  url: string;
  dumpsDir: string;
  kind: string;
}

async function throwawayStack(): Promise<Target> {
  const stack = await startThrowawayStack('dumps', { DUMPS_DIR: '', DUMPS_MAX_BYTES: '4gb' });
  return { url: stack.url, dumpsDir: path.join(stack.dir, 'dumps'), kind: 'throwaway' };
}

async function resolveTarget(): Promise<Target> {
  if (flags.url) {
    const dumpsDir = flags['dumps-dir'] ?? os.tmpdir();
    if (!flags['dumps-dir']) say(`no --dumps-dir: the dd baseline writes to ${dumpsDir}, which may not be the server's disk`);
    return { url: flags.url.replace(/\/+$/, ''), dumpsDir, kind: 'url' };
  }
  const { localStackUrls } = await import('../src/cli/localStack.ts');
  const local = localStackUrls();
  if (!local) return throwawayStack();
  const { config } = await import('../src/config.ts');
  return { url: local.webUrl, dumpsDir: config.dumpsDir, kind: 'local' };
}

// ---------------------------------------------------------------------------------
// Measurements

/** 4 MiB of noise, repeated: the server hashes and writes it like any dump; the client spends no CPU making it. */
const BLOCK = randomBytes(4 * MiB);

function expectedSha256(bytes: number): string {
  const h = createHash('sha256');
  for (let sent = 0; sent < bytes; sent += BLOCK.length) h.update(BLOCK.subarray(0, Math.min(BLOCK.length, bytes - sent)));
  return h.digest('hex');
}

/** dd if=/dev/zero of=DIR/file bs=256k count=… conv=fsync, in Node: the disk's sequential write speed. */
async function sequentialWrite(dir: string, bytes: number): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `.bench-dd-${process.pid}`);
  const chunk = BLOCK.subarray(0, 256 * 1024);
  const t0 = performance.now();
  const h = await open(file, 'w');
  try {
    for (let written = 0; written < bytes;) {
      const { bytesWritten } = await h.write(chunk, 0, Math.min(chunk.length, bytes - written));
      written += bytesWritten;
    }
    await h.sync();
  } finally {
    await h.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  await unlink(file);
  return seconds;
}

interface Uploaded {
  status: number;
  seconds: number;
  id?: string;
  sha256?: string;
  error?: string;
}

/** One multipart upload streamed from memory with backpressure, as a C++ uploader would send it. */
function upload(base: string, token: string, bytes: number, name: string): Promise<Uploaded> {
  const boundary = `----faultline-bench-${randomBytes(6).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="label"\r\n\r\nbench\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(`${base}/api/dumps/`, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + bytes + tail.length,
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const seconds = (performance.now() - t0) / 1000;
        const text = Buffer.concat(chunks).toString();
        try {
          const body = JSON.parse(text) as { id?: string; sha256?: string; error?: string };
          resolve({ status: res.statusCode ?? 0, seconds, id: body.id, sha256: body.sha256, error: body.error });
        } catch {
          resolve({ status: res.statusCode ?? 0, seconds, error: text.slice(0, 200) });
        }
      });
    });
    req.on('error', (err) => resolve({ status: 0, seconds: (performance.now() - t0) / 1000, error: err.message }));
    (async () => {
      const write = (b: Buffer) => (req.write(b) ? Promise.resolve() : new Promise<void>((r) => req.once('drain', () => r())));
      await write(head);
      for (let sent = 0; sent < bytes; sent += BLOCK.length) await write(BLOCK.subarray(0, Math.min(BLOCK.length, bytes - sent)));
      req.end(tail);
    })().catch(() => undefined);
  });
}

async function webRss(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^faultline_process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Runs `fn` while sampling the web process's RSS every 50 ms. */
async function withRss<T>(base: string, fn: () => Promise<T>): Promise<{ result: T; beforeMb: number; peakMb: number }> {
  const before = await webRss(base);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await webRss(base).catch(() => 0));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return { result: await fn(), beforeMb: before / MiB, peakMb: peak / MiB };
  } finally {
    sampling = false;
    await sampler;
  }
}

async function main(): Promise<void> {
  const target = await resolveTarget();
  say(`Faultline: ${target.url} (${target.kind}); ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  const project = await createBenchProject(target.url);
  const created: string[] = [];
  onCleanup(async () => {
    for (const id of created)
      await fetch(`${target.url}/api/dumps/${id}/`, { method: 'DELETE', headers: { authorization: `Bearer ${project.access}` } });
  });

  say(`warm-up and checks (8 MiB)…`);
  const warm = await upload(target.url, project.access, 8 * MiB, 'warmup.dmp');
  if (warm.status !== 201) throw new Error(`warm-up upload → ${warm.status} ${warm.error ?? ''}`);
  created.push(warm.id!);

  const sizeMb = sizeBytes / MiB;
  say(`dd-style sequential write of ${sizeMb} MiB to ${target.dumpsDir}…`);
  const ddBefore = await sequentialWrite(target.dumpsDir, sizeBytes);
  const wantSha = expectedSha256(sizeBytes);
  say(`one ${sizeMb} MiB upload…`);
  const big = await withRss(target.url, () => upload(target.url, project.access, sizeBytes, 'big.dmp'));
  if (big.result.id) created.push(big.result.id);
  if (big.result.status !== 201)
    throw new Error(`upload → ${big.result.status} ${big.result.error ?? ''} (is DUMPS_MAX_BYTES at least ${sizeMb} MiB?)`);
  if (big.result.sha256 !== wantSha) throw new Error(`the server's sha256 (${big.result.sha256}) is not the client's (${wantSha})`);
  say('dd-style write again…');
  const ddAfter = await sequentialWrite(target.dumpsDir, sizeBytes);
  const ddSeconds = Math.min(ddBefore, ddAfter); // the faster run is the fairer bar
  const ddMbS = sizeMb / ddSeconds;
  const upMbS = sizeMb / big.result.seconds;

  say(`${concurrent} concurrent uploads of ${eachBytes / MiB} MiB…`);
  const wantEach = expectedSha256(eachBytes);
  const t0 = performance.now();
  const many = await withRss(target.url, () =>
    Promise.all(Array.from({ length: concurrent }, (_, i) => upload(target.url, project.access, eachBytes, `c${i}.dmp`))),
  );
  const wall = (performance.now() - t0) / 1000;
  for (const r of many.result) if (r.id) created.push(r.id);
  const ok = many.result.filter((r) => r.status === 201 && r.sha256 === wantEach).length;
  const lat = many.result.map((r) => r.seconds).sort((a, b) => a - b);

  const ratio = upMbS / ddMbS;
  const rows = [
    ['', 'value', 'target'],
    [`sequential write, ${sizeMb} MiB + fsync (MB/s)`, fmt.int(ddMbS), ''],
    [`upload, ${sizeMb} MiB (MB/s)`, fmt.int(upMbS), ''],
    ['upload ÷ sequential write', ratio.toFixed(2), `≥ ${TARGET_RATIO}`],
    ['web RSS idle → peak during upload (MB)', `${fmt.int(big.beforeMb)} → ${fmt.int(big.peakMb)}`, ''],
    ['  growth caused by the upload (MB)', fmt.int(big.peakMb - big.beforeMb), `< ${TARGET_RSS_MB}`],
    [`${concurrent} × ${eachBytes / MiB} MiB concurrent: wall (s)`, fmt.s(wall), ''],
    ['  aggregate (MB/s)', fmt.int((concurrent * eachBytes) / MiB / wall), ''],
    ['  per upload p50 / max (s)', `${fmt.s(lat[Math.floor(lat.length / 2)])} / ${fmt.s(lat[lat.length - 1])}`, ''],
    ['  201 with the right sha256', `${ok} / ${concurrent}`, `${concurrent} / ${concurrent}`],
    ['  web RSS idle → peak (MB)', `${fmt.int(many.beforeMb)} → ${fmt.int(many.peakMb)}`, ''],
  ];
  process.stdout.write(`\n${table(rows)}\n\n`);
  const rssOk = big.peakMb - big.beforeMb < TARGET_RSS_MB;
  const pass = ratio >= TARGET_RATIO && rssOk && ok === concurrent;
  process.stdout.write(
    `throughput ${ratio >= TARGET_RATIO ? 'PASS' : 'BELOW'}, RSS growth ${rssOk ? 'PASS' : 'ABOVE'}, concurrent ${ok === concurrent ? 'PASS' : 'FAIL'}\n`,
  );
  process.stdout.write(`dd runs before/after: ${fmt.int(sizeMb / ddBefore)} / ${fmt.int(sizeMb / ddAfter)} MB/s (the faster is the bar)\n`);

  const resultsDir = path.join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `dumps-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        machine,
        target: { kind: target.kind, url: target.url },
        params: { sizeBytes, concurrent, eachBytes },
        sequentialWrite: { runsSeconds: [ddBefore, ddAfter], mbPerS: ddMbS },
        upload: { seconds: big.result.seconds, mbPerS: upMbS, ratio, rssBeforeMb: big.beforeMb, rssPeakMb: big.peakMb },
        concurrent: {
          wallSeconds: wall,
          ok,
          latenciesSeconds: lat,
          rssBeforeMb: many.beforeMb,
          rssPeakMb: many.peakMb,
          errors: many.result.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.error ?? ''}`),
        },
        pass,
      },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`\nresults: ${path.relative(root, file)}\n`);
}

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (err) {
  say(`failed: ${(err as Error).message ?? err}`);
  await cleanup();
  process.exit(1);
}

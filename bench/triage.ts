/**
 * `npm run bench:triage` — what source maps cost ingestion, and how fast the issue page
 * answers for a big issue.
 *
 * On a throwaway stack: a minified bundle of ~1 MB source map is built with esbuild,
 * `sentry-cli sourcemaps inject` + `upload` send it (the real CLI, an auth token), and the
 * real @sentry/node reports one error thrown inside it to a capture server: that envelope
 * is the mapped event. The plain event is the same envelope with its frames pointing at a
 * file no map covers. Two runs of the same size into the same project, in one process:
 * all plain, then 10% mapped (symbolicated by the worker at ingest), then all plain again
 * (the baseline is the mean of the two plain runs). Target: throughput
 * with maps ≥ 0.9 × without.
 *
 * Then one issue with --issue-events (100,000) events, and its page (`GET
 * /api/issues/{id}/summary`, what the admin's issue page reads) asked --page-requests
 * times one after another: p50/p95 of the answer time on loopback. Target p95 ≤ 150 ms.
 *
 *   npm run bench:triage -- [--events N=20000] [--concurrency C=50] [--issue-events 100000] [--page-requests 200]
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  call,
  createBenchProject,
  fmt,
  requestBody,
  runLoad,
  stackProblems,
  storedCount,
  table,
  waitForStored,
  type BenchProject,
} from './lib.ts';
import { root, runBench, say, startThrowawayStack } from './stack.ts';

const RATIO_TARGET = 0.9;
const PAGE_P95_TARGET_MS = 150;
const MAPPED_SHARE = 0.1;
const run = promisify(execFile);
const BIN = (name: string) => path.join(root, 'node_modules/.bin', name);

function options() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      concurrency: { type: 'string' },
      'issue-events': { type: 'string' },
      'page-requests': { type: 'string' },
    },
  });
  const n = (k: keyof typeof values, def: number) => (values[k] === undefined ? def : Math.max(1, Number(values[k])));
  return {
    events: n('events', 20_000),
    concurrency: n('concurrency', 50),
    issueEvents: n('issue-events', 100_000),
    pageRequests: n('page-requests', 200),
  };
}

/** A bundle whose map is about 1 MB: many small modules, minified by esbuild; the last one throws. */
async function buildBundle(dir: string): Promise<string> {
  const src = path.join(dir, 'src');
  mkdirSync(src, { recursive: true });
  const modules = 1200;
  for (let i = 0; i < modules; i++) {
    writeFileSync(
      path.join(src, `m${i}.js`),
      `// Module ${i}: prices, discounts and rounding for catalogue section ${i}.
export function priceOfItem${i}(item, currency) {
  const base = item.prices ? item.prices[currency] : undefined;
  if (base === undefined) {
    throw new TypeError('no ${i} price for ' + item.name + ' in ' + currency);
  }
  const discounted = item.discount ? base * (1 - item.discount / 100) : base;
  return Math.round(discounted * 100) / 100;
}
`,
    );
  }
  writeFileSync(
    path.join(src, 'main.js'),
    `${Array.from({ length: modules }, (_, i) => `import { priceOfItem${i} } from './m${i}.js';`).join('\n')}
const all = [${Array.from({ length: modules }, (_, i) => `priceOfItem${i}`).join(', ')}];
export function checkout(items, currency) {
  return items.map((item, i) => all[(i * 7) % all.length](item, currency));
}
`,
  );
  await run(
    BIN('esbuild'),
    ['src/main.js', '--bundle', '--minify', '--sourcemap', '--format=esm', '--platform=node', '--outfile=dist/bundle.mjs'],
    { cwd: dir },
  );
  return path.join(dir, 'dist');
}

/** Runs the bundle under @sentry/node with `dsn` and returns the envelope it sent. */
async function captureEnvelope(dir: string, release: string): Promise<string> {
  let captured: string | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
      if (text.includes('"type":"event"')) captured = text;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const entry = path.join(dir, 'entry.mjs');
  writeFileSync(
    entry,
    `import * as Sentry from ${JSON.stringify(path.join(root, 'node_modules/@sentry/node/build/esm/index.js'))};
Sentry.init({ dsn: 'http://0123456789abcdef0123456789abcdef@127.0.0.1:${port}/1', release: ${JSON.stringify(release)}, defaultIntegrations: false });
const { checkout } = await import('./dist/bundle.mjs');
try { checkout([{ name: 'pear', prices: {} }], 'CHF'); } catch (err) { Sentry.captureException(err); }
await Sentry.close(5000);
`,
  );
  try {
    await run(process.execPath, [entry], { timeout: 60_000 });
  } finally {
    server.close();
  }
  if (!captured) throw new Error('@sentry/node sent no event envelope');
  return captured;
}

/** The envelope with a fresh event id (the same id twice is one event). */
const withFreshId = (envelope: string, eventId: string) => envelope.replaceAll(eventId, randomUUID().replaceAll('-', ''));

async function load(base: string, p: BenchProject, bodies: string[], concurrency: number) {
  const before = await storedCount(base, p);
  const r = await runLoad({
    url: `${base}/api/${p.projectId}/envelope/`,
    body: bodies[0],
    bodies,
    connections: concurrency,
    requests: bodies.length,
    headers: { 'content-type': 'application/x-sentry-envelope', 'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${p.apiKey}` },
  });
  const wait = await waitForStored(async () => (await storedCount(base, p)) - before, r.accepted, 200, 60_000);
  const seconds = (wait.at - r.startedAt) / 1000;
  return { run: r, stored: wait.stored, complete: wait.complete, eventsPerS: wait.stored / seconds };
}

async function issuePage(base: string, o: ReturnType<typeof options>) {
  const p = await createBenchProject(base);
  const batch = 100;
  const requests = Math.ceil(o.issueEvents / batch);
  say(`one issue with ${fmt.int(requests * batch)} events…`);
  const r = await runLoad({
    url: `${base}/api/events/`,
    body: requestBody(batch),
    connections: Math.min(o.concurrency, requests),
    requests,
    headers: { authorization: `Bearer ${p.apiKey}` },
  });
  const wait = await waitForStored(() => storedCount(base, p), r.accepted * batch, 500, 120_000);
  const page = await call<{ results: Array<{ id: number; times_seen: number }> }>(
    'GET',
    `${base}/api/issues/?project=${p.projectId}`,
    undefined,
    p.access,
  );
  const issue = page.results[0];
  const times: number[] = [];
  for (let i = 0; i < o.pageRequests; i++) {
    const t = performance.now();
    const res = await fetch(`${base}/api/issues/${issue.id}/summary`, { headers: { authorization: `Bearer ${p.access}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`issue page answered ${res.status}`);
    if (i > 0) times.push(performance.now() - t); // the first warms the caches
  }
  times.sort((a, b) => a - b);
  const pct = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  return { events: issue.times_seen, complete: wait.complete, p50: pct(0.5), p95: pct(0.95) };
}

async function main() {
  const o = options();
  const stack = await startThrowawayStack('triage');
  const p = await createBenchProject(stack.url);
  const projects = await call<{ results: Array<{ id: number; slug: string }> }>('GET', `${stack.url}/api/projects/`, undefined, p.access);
  const slug = projects.results.find((x) => x.id === p.projectId)!.slug;
  const { token } = await call<{ token: string }>(
    'POST',
    `${stack.url}/api/auth-tokens/`,
    { name: 'bench', projects: [p.projectId] },
    p.access,
  );

  const dir = mkdtempSync(path.join(os.tmpdir(), 'faultline-bench-bundle-'));
  const dist = await buildBundle(dir);
  const mapBytes = statSync(path.join(dist, 'bundle.mjs.map')).size;
  const release = 'shop@1.0.0';
  const cli = (args: string[]) =>
    run(BIN('sentry-cli'), args, {
      cwd: dir,
      timeout: 120_000,
      env: {
        ...process.env,
        SENTRY_URL: stack.url,
        SENTRY_AUTH_TOKEN: token,
        SENTRY_ORG: 'faultline',
        SENTRY_PROJECT: slug,
        SENTRY_LOG_LEVEL: 'warn',
      },
    });
  say(`bundle built (map ${fmt.int(mapBytes)} bytes); sentry-cli inject + upload…`);
  await cli(['sourcemaps', 'inject', 'dist']);
  await cli(['sourcemaps', 'upload', '--release', release, 'dist']);

  const mapped = await captureEnvelope(dir, release);
  const eventId = JSON.parse(mapped.split('\n')[0]).event_id as string;
  // Plain: no debug id, frames in a file no map covers (looked up, not found — as for an app without maps).
  const lines = mapped.split('\n');
  const header = JSON.parse(lines[0]);
  delete header.dsn; // the capture server's; the bench authenticates with X-Sentry-Auth
  lines[0] = JSON.stringify(header);
  const mappedEnvelope = lines.join('\n');
  const event = JSON.parse(lines[2]);
  delete event.debug_meta;
  for (const ex of event.exception?.values ?? [])
    for (const f of ex.stacktrace?.frames ?? [])
      if (f.filename) f.filename = f.abs_path = String(f.filename).replace('bundle.mjs', 'plain.mjs');
  const plainEvent = JSON.stringify(event);
  const plain = [lines[0], JSON.stringify({ ...JSON.parse(lines[1]), length: Buffer.byteLength(plainEvent) }), plainEvent, ''].join('\n');
  writeFileSync(path.join(dir, 'mapped.envelope'), mapped);

  const every = Math.round(1 / MAPPED_SHARE);
  const bodiesOf = (share: boolean) =>
    Array.from({ length: o.events }, (_, i) => withFreshId(share && i % every === 0 ? mappedEnvelope : plain, eventId));
  say(
    `warmup, then ${fmt.int(o.events)} events without maps, with ${MAPPED_SHARE * 100}% mapped, and without again (concurrency ${o.concurrency})…`,
  );
  await load(stack.url, p, bodiesOf(true).slice(0, Math.max(o.concurrency, 1000)), o.concurrency);
  // Without, with, without again: the machine drifts; "without" is the mean of the runs around "with".
  const before = await load(stack.url, p, bodiesOf(false), o.concurrency);
  const withMaps = await load(stack.url, p, bodiesOf(true), o.concurrency);
  const after = await load(stack.url, p, bodiesOf(false), o.concurrency);
  const without = {
    run: { acceptedPerS: (before.run.acceptedPerS + after.run.acceptedPerS) / 2 },
    eventsPerS: (before.eventsPerS + after.eventsPerS) / 2,
    stored: before.stored + after.stored,
    complete: before.complete && after.complete,
  };

  // The mapped events really were mapped: their issue's culprit names the original file.
  const issues = await call<{ results: Array<{ culprit: string; times_seen: number }> }>(
    'GET',
    `${stack.url}/api/issues/?project=${p.projectId}&page_size=100`,
    undefined,
    p.access,
  );
  const mappedIssue = issues.results.find((i) => /src\/m\d+\.js/.test(i.culprit ?? ''));
  const page = await issuePage(stack.url, o);
  const ratio = withMaps.eventsPerS / without.eventsPerS;

  process.stdout.write(
    `\n${table([
      ['', 'no maps', `${MAPPED_SHARE * 100}% mapped`],
      ['events/s accepted', fmt.int(without.run.acceptedPerS), fmt.int(withMaps.run.acceptedPerS)],
      ['end-to-end events/s', fmt.int(without.eventsPerS), fmt.int(withMaps.eventsPerS)],
      [
        'events stored',
        `${fmt.int(without.stored)}${without.complete ? '' : ' (incomplete)'}`,
        `${fmt.int(withMaps.stored)}${withMaps.complete ? '' : ' (incomplete)'}`,
      ],
    ])}\n\n`,
  );
  process.stdout.write(
    `mapped issue: ${mappedIssue ? `${mappedIssue.culprit} (${fmt.int(mappedIssue.times_seen)} events)` : 'NONE — the frames were not mapped'}\n`,
  );
  process.stdout.write(
    `throughput with maps ÷ without: ${ratio.toFixed(2)} (target ≥ ${RATIO_TARGET}) ${ratio >= RATIO_TARGET && mappedIssue ? 'PASS' : 'BELOW'}\n`,
  );
  process.stdout.write(
    `issue page, ${fmt.int(page.events)} events${page.complete ? '' : ' (incomplete)'}: p50 ${fmt.ms(page.p50)} ms, p95 ${fmt.ms(page.p95)} ms (target ≤ ${PAGE_P95_TARGET_MS}) ${page.p95 <= PAGE_P95_TARGET_MS ? 'PASS' : 'BELOW'}\n`,
  );
  const problems = stackProblems(stack.logFile);
  if (problems.length)
    process.stdout.write(`\nthe stack logged ${problems.length} warning/error line(s); first: ${problems[0].slice(0, 300)}\n`);
}

await runBench(main);

/**
 * `npm run bench` — ingest throughput, end to end, against a bare node:http yardstick.
 *
 * Sends N ~1 KB seed-1 events at concurrency C to POST /api/events/, and reports
 * accepted/s, p50/p99 accept latency, the time until all are stored (first request →
 * the project's event count reaching N), and the same load against a bare node:http
 * server on this machine. Target: end-to-end events/s ≥ 0.35 × the bare rate.
 * Absolute numbers depend on the machine; quote the ratio.
 *
 *   npm run bench -- [--events N] [--concurrency C] [--batch B] [--warmup W] [--url URL]
 *
 * Target: --url / BENCH_URL; else a running `npm start` (.data/stack.json); else a
 * throwaway stack (`npm start` in a temp DATA_DIR on free ports), stopped at the end.
 *
 * Then scrubbing's cost (bench/scrubbing.ts): realistic Sentry events (headers, cookies,
 * breadcrumbs) stored by two more throwaway stacks, default rules on vs SCRUBBING_ENABLED=false,
 * side by side (target on ÷ off ≥ 0.9). `--scrub-events 0` leaves it out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cleanup, onCleanup, root, say, startThrowawayStack, stopping } from './stack.ts';
import { compareScrubbing, scrubbingReport, type ScrubbingFigures } from './scrubbing.ts';
import {
  createBenchProject,
  EVENT_BYTES,
  fmt,
  requestBody,
  runLoad,
  stackProblems,
  startBaseline,
  storedCount,
  table,
  waitForStored,
  type LoadStats,
} from './lib.ts';

const TARGET_RATIO = 0.35;

// ---------------------------------------------------------------------------------
// Options: flags win over BENCH_* environment variables.

const USAGE = `npm run bench -- [--events N=100000] [--concurrency C=50] [--batch B=1] [--warmup W=2000] [--url URL] [--scrub-events S=20000]
  (or BENCH_EVENTS, BENCH_CONCURRENCY, BENCH_BATCH, BENCH_WARMUP, BENCH_URL, BENCH_SCRUB_EVENTS)`;

function readOptions() {
  const { values: flags } = parseArgs({
    options: {
      events: { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      warmup: { type: 'string' },
      url: { type: 'string' },
      'scrub-events': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const count = (name: 'events' | 'concurrency' | 'batch' | 'warmup' | 'scrub-events', def: number, min: number): number => {
    const raw = flags[name] ?? process.env[`BENCH_${name.toUpperCase().replace('-', '_')}`];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${raw}"\n${USAGE}`);
    return n;
  };
  const batch = count('batch', 1, 1);
  const concurrency = count('concurrency', 50, 1);
  // Whole requests only: N is rounded up to a multiple of the batch size.
  const requests = Math.ceil(count('events', 100_000, 1) / batch);
  // Warms the JIT, connection pools and the worker; its events are stored before the timed run.
  const warmupEvents = count('warmup', 2000, 0);
  return {
    help: flags.help ?? false,
    batch,
    concurrency,
    requests,
    events: requests * batch,
    warmupRequests: warmupEvents ? Math.max(concurrency, Math.ceil(warmupEvents / batch)) : 0,
    url: (flags.url ?? process.env.BENCH_URL)?.replace(/\/+$/, ''),
    scrubEvents: count('scrub-events', 20_000, 0),
  };
}

// ---------------------------------------------------------------------------------
// Target: a Faultline to measure.

interface Target {
  kind: 'url' | 'local' | 'throwaway';
  url: string;
  logFile?: string;
}

async function resolveTarget(explicitUrl: string | undefined): Promise<Target> {
  if (explicitUrl) return { kind: 'url', url: explicitUrl };
  // Imported only here: it loads the project config (and .env), which --url runs do not need.
  const { localStackUrls } = await import('../src/cli/localStack.ts');
  const local = localStackUrls();
  if (local) return { kind: 'local', url: local.webUrl };
  return startThrowaway();
}

/** `npm start` in a temp DATA_DIR: its own PostgreSQL and Redis, as a user's first run gets them. */
async function startThrowaway(): Promise<Target> {
  const stack = await startThrowawayStack('ingest');
  return { kind: 'throwaway', url: stack.url, logFile: stack.logFile };
}

// ---------------------------------------------------------------------------------
// The run

async function main(): Promise<void> {
  const { help, batch, concurrency, requests, events, warmupRequests, url, scrubEvents } = readOptions();
  if (help) return void process.stdout.write(`${USAGE}\n`);
  const warmup = warmupRequests > 0;
  const body = requestBody(batch);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', node: process.version, platform: `${os.platform()} ${os.release()}` };
  say(`${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`);
  say(`${fmt.int(events)} events of ${EVENT_BYTES} B, ${batch} per request (${fmt.int(requests)} requests of ${fmt.int(body.length)} B), concurrency ${concurrency}, warmup ${warmup ? fmt.int(warmupRequests * batch) : 0} events`);

  // 1. The yardstick, before Faultline starts (a quiet machine), and again after it.
  const bare = await startBaseline();
  onCleanup(() => bare.stop());
  const bareRun = (n: number) => runLoad({ url: bare.url, body, connections: concurrency, requests: n });
  say('baseline: bare node:http…');
  if (warmup) await bareRun(warmupRequests);
  const bareBefore = await bareRun(requests);

  // 2. Faultline, through its public API only.
  const target = await resolveTarget(url);
  say(`Faultline: ${target.url} (${target.kind})`);
  const project = await createBenchProject(target.url);
  const ingest = { url: `${target.url}/api/events/`, body, connections: concurrency, headers: { authorization: `Bearer ${project.apiKey}` } };
  const stored = () => storedCount(target.url, project);
  if (warmup) {
    const w = await runLoad({ ...ingest, requests: warmupRequests });
    const settled = await waitForStored(stored, w.accepted * batch, 100, 60_000);
    if (w.accepted < warmupRequests || !settled.complete) say(`warmup: ${w.accepted}/${warmupRequests} accepted, ${settled.stored} stored — carrying on`);
  }
  const before = await stored();
  say(`Faultline: ${fmt.int(events)} events…`);
  const fl = await runLoad({ ...ingest, requests });
  // Stored ≤ accepted, so polling only after the load ends loses nothing and adds no load.
  const wait = await waitForStored(async () => (await stored()) - before, fl.accepted * batch, 100, 60_000);
  const storedS = (wait.at - fl.startedAt) / 1000;
  const complete = wait.complete && fl.accepted === requests;

  // 3. The yardstick again. A busy moment during one bare run would flatter the ratio;
  //    the faster of the two is the fairer bar.
  say('baseline again: bare node:http…');
  const bareAfter = await bareRun(requests);
  await bare.stop();
  const base = bareAfter.acceptedPerS > bareBefore.acceptedPerS ? bareAfter : bareBefore;
  const bareSpread = Math.abs(bareAfter.acceptedPerS - bareBefore.acceptedPerS) / base.acceptedPerS;

  // 4. Figures.
  const baseEventsPerS = base.acceptedPerS * batch;
  const e2eEventsPerS = wait.stored / storedS;
  const ratio = e2eEventsPerS / baseEventsPerS;
  const pass = complete && ratio >= TARGET_RATIO;
  const errs = (s: LoadStats) => `${fmt.int(s.non2xx)} / ${fmt.int(s.errors)}`;
  const rows = [
    ['', 'bare node:http', 'Faultline'],
    ['requests/s accepted', fmt.int(base.acceptedPerS), fmt.int(fl.acceptedPerS)],
    ['events/s accepted', fmt.int(baseEventsPerS), fmt.int(fl.acceptedPerS * batch)],
    ['p50 accept latency (ms)', fmt.ms(base.p50Ms), fmt.ms(fl.p50Ms)],
    ['p99 accept latency (ms)', fmt.ms(base.p99Ms), fmt.ms(fl.p99Ms)],
    ['non-2xx / errors', errs(base), errs(fl)],
    ['time until all stored (s)', '–', `${fmt.s(storedS)}${complete ? '' : ' (incomplete)'}`],
    ['  of which after last accept (s)', '–', fmt.s(storedS - fl.seconds)],
    ['events stored', '–', `${fmt.int(wait.stored)} / ${fmt.int(events)}`],
    ['end-to-end events/s', '–', fmt.int(e2eEventsPerS)],
  ];
  const codes = (s: LoadStats) => Object.entries(s.statusCodes).map(([c, n]) => `${c}×${n}`).join(' ');
  process.stdout.write(`\n${table(rows)}\n\n`);
  process.stdout.write(`end-to-end ÷ bare rate: ${ratio.toFixed(2)}  (target ≥ ${TARGET_RATIO})  ${pass ? 'PASS' : 'BELOW'}\n`);
  process.stdout.write(`accepted/s ÷ bare rate: ${(fl.acceptedPerS / base.acceptedPerS).toFixed(2)}\n`);
  process.stdout.write(`bare runs before/after: ${fmt.int(bareBefore.acceptedPerS)} / ${fmt.int(bareAfter.acceptedPerS)} req/s (the faster is the bar)\n`);
  if (bareSpread > 0.15) process.stdout.write(`note: the two bare runs differ by ${Math.round(bareSpread * 100)}%: the machine was not quiet, so the ratio is noisy\n`);
  if (fl.non2xx || fl.errors) process.stdout.write(`Faultline answers: ${codes(fl)}; connection errors/timeouts: ${fl.errors}\n`);

  const problems = stackProblems(target.logFile);
  if (problems.length) {
    process.stdout.write(`\nthe stack logged ${problems.length} warning/error line(s); first ones:\n  ${problems.slice(0, 5).map((l) => l.slice(0, 300)).join('\n  ')}\n`);
  }

  // 5. Scrubbing on vs off, side by side (two more throwaway stacks).
  let scrubbing: ScrubbingFigures | null = null;
  if (scrubEvents > 0) {
    say('scrubbing: default rules on vs SCRUBBING_ENABLED=false…');
    scrubbing = await compareScrubbing(Math.max(scrubEvents, concurrency), concurrency);
    process.stdout.write(`\n${scrubbingReport(scrubbing)}\n`);
  }

  const resultsDir = path.join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const strip = ({ startedAt: _, ...s }: LoadStats) => s;
  const result = {
    at: new Date().toISOString(),
    machine,
    params: { events, concurrency, batch, warmupEvents: warmup ? warmupRequests * batch : 0, eventBytes: EVENT_BYTES, requestBytes: body.length, requests },
    target: { kind: target.kind, url: target.url },
    baseline: { ...strip(base), eventsPerS: baseEventsPerS, runs: [bareBefore, bareAfter].map(strip) },
    faultline: { ...strip(fl), eventsPerS: fl.acceptedPerS * batch, stored: wait.stored, complete, storedSeconds: storedS, endToEndEventsPerS: e2eEventsPerS },
    ratio: { endToEnd: ratio, accepted: fl.acceptedPerS / base.acceptedPerS, target: TARGET_RATIO, pass },
    stackProblems: problems.slice(0, 50),
    scrubbing,
  };
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\nresults: ${path.relative(root, file)}\n`);
}

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (err) {
  // After a Ctrl-C, the stack dying under us is expected, not a failure to report.
  if (!stopping()) say(`failed: ${(err as Error).message ?? err}`);
  await cleanup();
  process.exit(1);
}

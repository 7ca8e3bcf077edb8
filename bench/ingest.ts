/**
 * `npm run bench` — ingest throughput, end to end, against a bare node:http yardstick.
 *
 * Sends N ~1 KB seed-1 events at concurrency C to POST /api/events/, and reports
 * accepted/s, p50/p99 accept latency, the time until all are stored (first request →
 * the project's event count reaching N), and the same load against a bare node:http
 * server on this machine, measured in the same run. Targets: end-to-end events/s ≥ 0.35 ×
 * the bare rate for single events; with --batch > 1, stored events/s ≥ 0.5 × a raw
 * 500-row multi-row INSERT of the same rows into the same PostgreSQL (bench/rawInsert.ts).
 * Absolute numbers depend on the machine; quote the ratios, from one run.
 *
 *   npm run bench -- [--mode development|production|both] [--events N] [--concurrency C]
 *                    [--batch B] [--warmup W] [--url URL] [--scrub-events S]
 *
 * Modes (throwaway stacks): `development` runs `npm start` as a developer does (TypeScript
 * compiled into .build/ by SWC); `production` runs `npm run build` first and then the
 * built dist/ with NODE_ENV=production, the way operators run it; `both` (the default)
 * runs one after the other, between two bare runs, and prints them side by side. Both run
 * the production shape, a web and a worker process (START_MODE=separate), so the per-stage
 * CPU table (bench/cpu.ts: web, worker, PostgreSQL, Redis, load generator) can tell them
 * apart.
 *
 * Target: --url / BENCH_URL (measured as it runs; no mode); else a running `npm start`
 * (.data/stack.json); else throwaway stacks (`npm start` in a temp DATA_DIR on free ports),
 * stopped at the end.
 *
 * Then scrubbing's cost (bench/scrubbing.ts): realistic Sentry events (headers, cookies,
 * breadcrumbs) stored by two more throwaway stacks, default rules on vs SCRUBBING_ENABLED=false,
 * side by side (target on ÷ off ≥ 0.9). `--scrub-events 0` leaves it out.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { onCleanup, root, runBench, say, startThrowawayStack } from './stack.ts';
import { cpuByStage, cpuDelta, type CpuSnapshot, type Stage } from './cpu.ts';
import { rawInsert, type RawInsertResult } from './rawInsert.ts';
import { compareScrubbing, scrubbingReport, type ScrubbingFigures } from './scrubbing.ts';
import {
  createBenchProject,
  EVENT_BYTES,
  fmt,
  requestBody,
  runLoad,
  seedEvent,
  stackProblems,
  startBaseline,
  storedCount,
  table,
  waitForStored,
  type LoadStats,
} from './lib.ts';

const TARGET_RATIO = 0.35;
const TARGET_BATCH_RATIO = 0.5;

// ---------------------------------------------------------------------------------
// Options: flags win over BENCH_* environment variables.

type Mode = 'development' | 'production';
const USAGE = `npm run bench -- [--mode development|production|both] [--events N=100000] [--concurrency C=50] [--batch B=1] [--warmup W=2000] [--url URL] [--scrub-events S=20000]
  (or BENCH_MODE, BENCH_EVENTS, BENCH_CONCURRENCY, BENCH_BATCH, BENCH_WARMUP, BENCH_URL, BENCH_SCRUB_EVENTS)`;

function readOptions() {
  const { values: flags } = parseArgs({
    options: {
      mode: { type: 'string' },
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
  const mode = flags.mode ?? process.env.BENCH_MODE ?? 'both';
  if (!['development', 'production', 'both'].includes(mode))
    throw new Error(`--mode must be development, production or both, got "${mode}"\n${USAGE}`);
  const batch = count('batch', 1, 1);
  const concurrency = count('concurrency', 50, 1);
  // Whole requests only: N is rounded up to a multiple of the batch size.
  const requests = Math.ceil(count('events', 100_000, 1) / batch);
  // Warms the JIT, connection pools and the worker; its events are stored before the timed run.
  const warmupEvents = count('warmup', 2000, 0);
  return {
    help: flags.help ?? false,
    modes: (mode === 'both' ? ['development', 'production'] : [mode]) as Mode[],
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
// Targets: a Faultline to measure.

interface Target {
  kind: 'url' | 'local' | 'throwaway';
  label: string;
  url: string;
  logFile?: string;
  /** For the per-stage CPU table (the launcher's pid) and the raw INSERT yardstick. */
  pid?: number;
  databaseUrl?: string;
  stop(): Promise<void>;
}

async function externalTarget(explicitUrl: string | undefined): Promise<Target | null> {
  if (explicitUrl) return { kind: 'url', label: 'Faultline', url: explicitUrl, stop: async () => undefined };
  // Imported only here: it loads the project config (and .env), which --url runs do not need.
  const { localStackUrls } = await import('../src/cli/localStack.ts');
  const local = localStackUrls();
  if (local)
    return {
      kind: 'local',
      label: 'Faultline (npm start)',
      url: local.webUrl,
      pid: local.pid,
      databaseUrl: local.databaseUrl,
      stop: async () => undefined,
    };
  return null;
}

/** `npm start` in a temp DATA_DIR, its own PostgreSQL and Redis; production mode runs the built dist/. */
async function throwaway(mode: Mode): Promise<Target> {
  const env: Record<string, string> = { START_MODE: 'separate' };
  if (mode === 'production') {
    Object.assign(env, {
      NODE_ENV: 'production',
      JWT_SECRET: randomBytes(32).toString('hex'),
      SESSION_SECRET: randomBytes(32).toString('hex'),
    });
  }
  const stack = await startThrowawayStack(`ingest-${mode}`, env);
  return {
    kind: 'throwaway',
    label: mode,
    url: stack.url,
    logFile: stack.logFile,
    pid: stack.pid,
    databaseUrl: stack.databaseUrl,
    stop: stack.stop,
  };
}

function build(): void {
  say('production mode: npm run build (tsc + admin bundle)…');
  const started = performance.now();
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
  say(`built dist/ in ${fmt.s((performance.now() - started) / 1000)} s`);
}

// ---------------------------------------------------------------------------------
// One measured run against one target

interface Measured {
  target: Target;
  fl: LoadStats;
  stored: number;
  storedS: number;
  complete: boolean;
  e2eEventsPerS: number;
  cpu: CpuSnapshot;
  /** The load generator (this process) over the same span. */
  clientCpuS: number;
  raw: RawInsertResult | null;
  problems: string[];
}

async function measure(target: Target, o: ReturnType<typeof readOptions>, body: string): Promise<Measured> {
  const { batch, concurrency, requests, warmupRequests } = o;
  say(`${target.label}: ${target.url} (${target.kind})`);
  const project = await createBenchProject(target.url);
  const ingest = {
    url: `${target.url}/api/events/`,
    body,
    connections: concurrency,
    headers: { authorization: `Bearer ${project.apiKey}` },
  };
  const stored = () => storedCount(target.url, project);
  if (warmupRequests) {
    const w = await runLoad({ ...ingest, requests: warmupRequests });
    const settled = await waitForStored(stored, w.accepted * batch, 100, 60_000);
    if (w.accepted < warmupRequests || !settled.complete)
      say(`warmup: ${w.accepted}/${warmupRequests} accepted, ${settled.stored} stored — carrying on`);
  }
  const before = await stored();
  say(`${target.label}: ${fmt.int(requests * batch)} events…`);
  const cpuBefore = target.pid ? cpuByStage(target.pid) : {};
  const clientBefore = process.cpuUsage();
  const fl = await runLoad({ ...ingest, requests });
  // Stored ≤ accepted, so polling only after the load ends loses nothing and adds no load.
  const wait = await waitForStored(async () => (await stored()) - before, fl.accepted * batch, 100, 60_000);
  const cpu = target.pid ? cpuDelta(cpuBefore, cpuByStage(target.pid)) : {};
  const client = process.cpuUsage(clientBefore);
  const storedS = (wait.at - fl.startedAt) / 1000;
  let raw: RawInsertResult | null = null;
  if (batch > 1 && target.databaseUrl) {
    say(`${target.label}: raw 500-row INSERTs of ${fmt.int(requests * batch)} rows…`);
    raw = await rawInsert(target.databaseUrl, project.projectId, seedEvent(), requests * batch);
  }
  return {
    target,
    fl,
    stored: wait.stored,
    storedS,
    complete: wait.complete && fl.accepted === requests,
    e2eEventsPerS: wait.stored / storedS,
    cpu,
    clientCpuS: (client.user + client.system) / 1e6,
    raw,
    problems: stackProblems(target.logFile),
  };
}

// ---------------------------------------------------------------------------------
// The run

const STAGES: Array<[Stage, string]> = [
  ['web', 'web'],
  ['worker', 'worker'],
  ['web+worker', 'web + worker (one process)'],
  ['postgres', 'PostgreSQL'],
  ['redis', 'Redis'],
  ['launcher', 'launcher (npm start)'],
];

async function main(): Promise<void> {
  const o = readOptions();
  if (o.help) return void process.stdout.write(`${USAGE}\n`);
  const { batch, concurrency, requests, events, warmupRequests } = o;
  const body = requestBody(batch);
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
  say(`${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`);
  say(
    `${fmt.int(events)} events of ${EVENT_BYTES} B, ${batch} per request (${fmt.int(requests)} requests of ${fmt.int(body.length)} B), concurrency ${concurrency}, warmup ${warmupRequests ? fmt.int(warmupRequests * batch) : 0} events`,
  );

  const external = await externalTarget(o.url);
  if (!external && o.modes.includes('production')) build();

  // 1. The yardstick, before Faultline starts (a quiet machine), and again after it.
  const bare = await startBaseline();
  onCleanup(() => bare.stop());
  const bareRun = (n: number) => runLoad({ url: bare.url, body, connections: concurrency, requests: n });
  say('baseline: bare node:http…');
  if (warmupRequests) await bareRun(warmupRequests);
  const bareBefore = await bareRun(requests);

  // 2. Faultline, through its public API only: each mode on its own stack, one at a time.
  const runs: Measured[] = [];
  if (external) runs.push(await measure(external, o, body));
  else {
    for (const mode of o.modes) {
      const target = await throwaway(mode);
      runs.push(await measure(target, o, body));
      await target.stop();
    }
  }

  // 3. The yardstick again. A busy moment during one bare run would flatter the ratio;
  //    the faster of the two is the fairer bar.
  say('baseline again: bare node:http…');
  const bareAfter = await bareRun(requests);
  await bare.stop();
  const base = bareAfter.acceptedPerS > bareBefore.acceptedPerS ? bareAfter : bareBefore;
  const bareSpread = Math.abs(bareAfter.acceptedPerS - bareBefore.acceptedPerS) / base.acceptedPerS;

  // 4. Figures, side by side.
  const baseEventsPerS = base.acceptedPerS * batch;
  const errs = (s: LoadStats) => `${fmt.int(s.non2xx)} / ${fmt.int(s.errors)}`;
  const col = (f: (m: Measured) => string) => runs.map(f);
  const rows = [
    ['', 'bare node:http', ...col((m) => m.target.label)],
    ['requests/s accepted', fmt.int(base.acceptedPerS), ...col((m) => fmt.int(m.fl.acceptedPerS))],
    ['events/s accepted', fmt.int(baseEventsPerS), ...col((m) => fmt.int(m.fl.acceptedPerS * batch))],
    ['p50 accept latency (ms)', fmt.ms(base.p50Ms), ...col((m) => fmt.ms(m.fl.p50Ms))],
    ['p99 accept latency (ms)', fmt.ms(base.p99Ms), ...col((m) => fmt.ms(m.fl.p99Ms))],
    ['non-2xx / errors', errs(base), ...col((m) => errs(m.fl))],
    ['time until all stored (s)', '–', ...col((m) => `${fmt.s(m.storedS)}${m.complete ? '' : ' (incomplete)'}`)],
    ['  of which after last accept (s)', '–', ...col((m) => fmt.s(m.storedS - m.fl.seconds))],
    ['events stored', '–', ...col((m) => `${fmt.int(m.stored)} / ${fmt.int(events)}`)],
    ['end-to-end events/s', '–', ...col((m) => fmt.int(m.e2eEventsPerS))],
    ['end-to-end ÷ bare rate', '1.00', ...col((m) => (m.e2eEventsPerS / baseEventsPerS).toFixed(2))],
    ['accepted ÷ bare rate', '1.00', ...col((m) => (m.fl.acceptedPerS / base.acceptedPerS).toFixed(2))],
  ];
  if (runs.some((m) => m.raw)) {
    rows.push(['raw 500-row INSERT rows/s', '–', ...col((m) => (m.raw ? fmt.int(m.raw.rowsPerS) : '–'))]);
    rows.push(['stored ÷ raw INSERT', '–', ...col((m) => (m.raw ? (m.e2eEventsPerS / m.raw.rowsPerS).toFixed(2) : '–'))]);
  }
  process.stdout.write(`\n${table(rows)}\n\n`);

  // Per-stage CPU: what each process spent per stored event over the timed run.
  const withCpu = runs.filter((m) => Object.keys(m.cpu).length);
  if (withCpu.length) {
    const us = (seconds: number | undefined, m: Measured) =>
      seconds === undefined ? '–' : fmt.int((seconds * 1e6) / Math.max(1, m.stored));
    const cpuRows = [['CPU µs per stored event', ...withCpu.map((m) => m.target.label)]];
    for (const [stage, name] of STAGES)
      if (withCpu.some((m) => m.cpu[stage] !== undefined)) cpuRows.push([name, ...withCpu.map((m) => us(m.cpu[stage], m))]);
    cpuRows.push(['load generator (bench)', ...withCpu.map((m) => us(m.clientCpuS, m))]);
    cpuRows.push(['total', ...withCpu.map((m) => us(Object.values(m.cpu).reduce((a, b) => a + (b ?? 0), 0) + m.clientCpuS, m))]);
    process.stdout.write(`${table(cpuRows)}\n\n`);
  }

  for (const m of runs) {
    const ratio = m.e2eEventsPerS / baseEventsPerS;
    if (batch === 1)
      process.stdout.write(
        `${m.target.label}: end-to-end ÷ bare rate ${ratio.toFixed(2)}  (target ≥ ${TARGET_RATIO})  ${m.complete && ratio >= TARGET_RATIO ? 'PASS' : 'BELOW'}\n`,
      );
    if (m.raw) {
      const r = m.e2eEventsPerS / m.raw.rowsPerS;
      process.stdout.write(
        `${m.target.label}: stored ÷ raw INSERT ${r.toFixed(2)}  (target ≥ ${TARGET_BATCH_RATIO})  ${m.complete && r >= TARGET_BATCH_RATIO ? 'PASS' : 'BELOW'}\n`,
      );
    }
  }
  process.stdout.write(
    `bare runs before/after: ${fmt.int(bareBefore.acceptedPerS)} / ${fmt.int(bareAfter.acceptedPerS)} req/s (the faster is the bar)\n`,
  );
  if (bareSpread > 0.15)
    process.stdout.write(
      `note: the two bare runs differ by ${Math.round(bareSpread * 100)}%: the machine was not quiet, so the ratios are noisy\n`,
    );
  const codes = (s: LoadStats) =>
    Object.entries(s.statusCodes)
      .map(([c, n]) => `${c}×${n}`)
      .join(' ');
  for (const m of runs) {
    if (m.fl.non2xx || m.fl.errors)
      process.stdout.write(`${m.target.label} answers: ${codes(m.fl)}; connection errors/timeouts: ${m.fl.errors}\n`);
    if (m.problems.length) {
      process.stdout.write(
        `\n${m.target.label}: the stack logged ${m.problems.length} warning/error line(s); first ones:\n  ${m.problems
          .slice(0, 5)
          .map((l) => l.slice(0, 300))
          .join('\n  ')}\n`,
      );
    }
  }

  // 5. Scrubbing on vs off, side by side (two more throwaway stacks).
  let scrubbing: ScrubbingFigures | null = null;
  if (o.scrubEvents > 0) {
    say('scrubbing: default rules on vs SCRUBBING_ENABLED=false…');
    scrubbing = await compareScrubbing(Math.max(o.scrubEvents, concurrency), concurrency);
    process.stdout.write(`\n${scrubbingReport(scrubbing)}\n`);
  }

  const resultsDir = path.join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const strip = ({ startedAt: _, ...s }: LoadStats) => s;
  const result = {
    at: new Date().toISOString(),
    machine,
    params: {
      events,
      concurrency,
      batch,
      warmupEvents: warmupRequests * batch,
      eventBytes: EVENT_BYTES,
      requestBytes: body.length,
      requests,
    },
    baseline: { ...strip(base), eventsPerS: baseEventsPerS, runs: [bareBefore, bareAfter].map(strip) },
    faultline: runs.map((m) => ({
      mode: m.target.label,
      target: { kind: m.target.kind, url: m.target.url },
      ...strip(m.fl),
      eventsPerS: m.fl.acceptedPerS * batch,
      stored: m.stored,
      complete: m.complete,
      storedSeconds: m.storedS,
      endToEndEventsPerS: m.e2eEventsPerS,
      cpuSecondsByStage: m.cpu,
      loadGeneratorCpuSeconds: m.clientCpuS,
      rawInsert: m.raw,
      ratio: {
        endToEnd: m.e2eEventsPerS / baseEventsPerS,
        accepted: m.fl.acceptedPerS / base.acceptedPerS,
        storedOverRawInsert: m.raw ? m.e2eEventsPerS / m.raw.rowsPerS : null,
      },
      stackProblems: m.problems.slice(0, 50),
    })),
    targets: { endToEnd: TARGET_RATIO, storedOverRawInsert: TARGET_BATCH_RATIO },
    scrubbing,
  };
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\nresults: ${path.relative(root, file)}\n`);
}

await runBench(main);

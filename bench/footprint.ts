/**
 * `npm run bench:footprint`: what the whole system costs on a small machine.
 *
 * 1. `npm start` exactly as the README runs it, in a fresh DATA_DIR: time from spawn to
 *    /healthz and to /readyz on the very first start (initdb, first compile), then
 *    memory once idle; Ctrl-C; a second (warm) start, timed the same way.
 * 2. The same after 10,000 error events and 100,000 logs through the API.
 * 3. The production web process (`npm run build`, NODE_ENV=production, admin loaded
 *    before listening) idle, against the stack of step 1.
 *
 * Memory is read from /proc: RSS per process, and the total as the sum of PSS
 * (proportional set size), which counts pages shared between processes — PostgreSQL's
 * shared buffers, Node's shared libraries — once instead of once per process.
 * Prints PASS/BELOW against the targets and saves the figures in bench/results/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBenchProject, fmt, reapLeftovers, requestBody, table } from './lib.ts';
import { cleanup, distinctPorts, onCleanup, root, say } from './stack.ts';

const TARGETS = { idleMb: 500, loadedMb: 650, warmReadyS: 5, firstReadyS: 10, prodWebMb: 150 };
const IDLE_SETTLE_MS = 10_000;

interface Proc {
  pid: number;
  name: string;
  rssMb: number;
  pssMb: number;
}

function readKb(pid: number, field: 'Rss' | 'Pss'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone meanwhile
  }
}

/** A process and all its descendants (threads excluded), with what each runs. */
function tree(rootPid: number): Array<{ pid: number; args: string }> {
  const ps = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout;
  const rows = ps
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  const children = new Map<number, Array<{ pid: number; args: string }>>();
  for (const [, pid, ppid, args] of rows) {
    const list = children.get(Number(ppid)) ?? [];
    list.push({ pid: Number(pid), args });
    children.set(Number(ppid), list);
  }
  const self = rows.find((r) => Number(r[1]) === rootPid);
  const out = self ? [{ pid: rootPid, args: self[3] }] : [];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i].pid) ?? []));
  return out;
}

function label(args: string): string {
  if (/^npm\b|npm-cli|\bnpm start/.test(args)) return 'npm';
  const entry = /run\.mjs (\S+)/.exec(args)?.[1];
  if (entry) return entry === 'cli/start' ? 'supervisor' : entry;
  if (/postgres/.test(args)) return 'postgresql';
  if (/redis-server/.test(args)) return 'redis';
  if (/^(sh|\/bin\/sh) /.test(args)) return 'sh';
  return args.split(' ')[0];
}

function measure(rootPid: number): {
  procs: Proc[];
  byName: Record<string, { rssMb: number; pssMb: number }>;
  totalPssMb: number;
  totalRssMb: number;
} {
  const procs = tree(rootPid).map((p) => ({
    pid: p.pid,
    name: label(p.args),
    rssMb: readKb(p.pid, 'Rss') / 1024,
    pssMb: readKb(p.pid, 'Pss') / 1024,
  }));
  const byName: Record<string, { rssMb: number; pssMb: number }> = {};
  for (const p of procs) {
    const e = (byName[p.name] ??= { rssMb: 0, pssMb: 0 });
    e.rssMb += p.rssMb;
    e.pssMb += p.pssMb;
  }
  return { procs, byName, totalPssMb: procs.reduce((n, p) => n + p.pssMb, 0), totalRssMb: procs.reduce((n, p) => n + p.rssMb, 0) };
}

interface Started {
  child: ChildProcess;
  base: string;
  healthzS: number;
  readyzS: number;
}

async function until(url: string, child: ChildProcess, started: number, timeoutMs: number): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before ${url} answered`);
    if (performance.now() - started > timeoutMs) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `npm start` as a user types it, in `dir`; resolves once /readyz answers. */
async function npmStart(dir: string, ports: number[], logFile: string): Promise<Started> {
  const [port, pgPort, redisPort] = ports;
  const t0 = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: root,
    env: {
      ...process.env,
      DATA_DIR: dir,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOCAL_PG_PORT: String(pgPort),
      LOCAL_REDIS_PORT: String(redisPort),
      LOG_LEVEL: 'warn',
      DATABASE_URL: '',
      REDIS_URL: '',
      NODE_ENV: 'development',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  child.once('exit', () => writeFileSync(logFile, out));
  const base = `http://127.0.0.1:${port}`;
  const healthzS = await until(`${base}/healthz`, child, t0, 180_000);
  const readyzS = await until(`${base}/readyz`, child, t0, 180_000);
  return { child, base, healthzS, readyzS };
}

async function stop(s: Started): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  process.kill(-s.child.pid!, 'SIGINT'); // Ctrl-C reaches the whole foreground group, as in a terminal
  await exited;
}

async function load(base: string): Promise<void> {
  const p = await createBenchProject(base);
  const events = requestBody(100);
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${base}/api/events/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${p.apiKey}` },
      body: events,
    });
    if (r.status !== 202) throw new Error(`events: ${r.status} ${await r.text()}`);
  }
  const logs = JSON.stringify(
    Array.from({ length: 1000 }, (_, i) => ({
      message: `cache miss for key user:${i} on shard ${i % 16}`,
      level: i % 10 ? 'info' : 'warning',
      metadata: { shard: i % 16 },
    })),
  );
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${base}/api/event-log/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${p.apiKey}` },
      body: logs,
    });
    if (r.status !== 202) throw new Error(`logs: ${r.status} ${await r.text()}`);
  }
  // Until the worker has stored them all (seed 3's stats count every log, exactly).
  for (let i = 0; i < 600; i++) {
    const stats = (await (await fetch(`${base}/api/user/stats/`, { headers: { authorization: `Bearer ${p.access}` } })).json()) as {
      total_event_logs: number;
      events: { total: number };
    };
    if (stats.total_event_logs >= 100_000 && stats.events.total >= 10_000) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the load was not stored within 5 minutes');
}

/** The production web process alone (admin loaded before listening), against the stack's PostgreSQL and Redis. */
async function productionWeb(dir: string): Promise<{ rssMb: number; pssMb: number; readyS: number } | { skipped: string }> {
  say('building for production (npm run build)…');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) return { skipped: `npm run build failed: ${(build.stderr || build.stdout).slice(-500)}` };
  const { databaseUrl, redisUrl } = JSON.parse(readFileSync(path.join(dir, 'stack.json'), 'utf8')) as {
    databaseUrl: string;
    redisUrl: string;
  };
  const secrets = JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as { jwtSecret: string; sessionSecret: string };
  const [port] = await distinctPorts(1);
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(root, 'bin/run.mjs'), 'web'], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      JWT_SECRET: secrets.jwtSecret,
      SESSION_SECRET: secrets.sessionSecret,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATA_DIR: dir,
    },
    stdio: 'ignore',
  });
  onCleanup(async () => void (child.exitCode === null && child.kill('SIGKILL')));
  const readyS = await until(`http://127.0.0.1:${port}/readyz`, child, t0, 120_000);
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const m = { rssMb: readKb(child.pid!, 'Rss') / 1024, pssMb: readKb(child.pid!, 'Pss') / 1024, readyS };
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  return m;
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'BELOW');

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('bench:footprint reads /proc: Linux only');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faultline-footprint-'));
  chmodSync(dir, 0o755);
  const ports = await distinctPorts(3);
  let current: Started | null = null;
  onCleanup(async () => {
    if (current) await stop(current);
    await reapLeftovers(path.join(dir, 'postgres', 'postmaster.pid'), ports[2], say);
    rmSync(dir, { recursive: true, force: true });
  });
  // The first start compiles too: start from no .build/, as a fresh clone does.
  rmSync(path.join(root, '.build'), { recursive: true, force: true });

  say('first start (initdb, migrations, compile)…');
  current = await npmStart(dir, ports, path.join(dir, 'first.log'));
  const first = { healthzS: current.healthzS, readyzS: current.readyzS };
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const firstIdle = measure(current.child.pid!);
  await stop(current);

  say('warm start…');
  current = await npmStart(dir, ports, path.join(dir, 'warm.log'));
  const warm = { healthzS: current.healthzS, readyzS: current.readyzS };
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const idle = measure(current.child.pid!);

  say('loading 10,000 error events and 100,000 logs…');
  await load(current.base);
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const loaded = measure(current.child.pid!);

  const prod = await productionWeb(dir);
  await stop(current);
  current = null;

  const names = [...new Set([...Object.keys(idle.byName), ...Object.keys(loaded.byName)])].filter((n) => n !== 'sh');
  const mb = (n: number | undefined) => (n === undefined ? '–' : fmt.int(n));
  const rows = [
    ['process (RSS, MB)', 'first start idle', 'warm idle', 'after load'],
    ...names.map((n) => [n, mb(firstIdle.byName[n]?.rssMb), mb(idle.byName[n]?.rssMb), mb(loaded.byName[n]?.rssMb)]),
    ['total RSS (shared counted per process)', mb(firstIdle.totalRssMb), mb(idle.totalRssMb), mb(loaded.totalRssMb)],
    ['total PSS (shared counted once)', mb(firstIdle.totalPssMb), mb(idle.totalPssMb), mb(loaded.totalPssMb)],
  ];
  process.stdout.write(`\n${table(rows)}\n\n`);
  const checks: Array<[string, string, boolean]> = [
    [`whole system idle ≤ ${TARGETS.idleMb} MB (PSS total)`, `${fmt.int(idle.totalPssMb)} MB`, idle.totalPssMb <= TARGETS.idleMb],
    [`after 10k events + 100k logs ≤ ${TARGETS.loadedMb} MB`, `${fmt.int(loaded.totalPssMb)} MB`, loaded.totalPssMb <= TARGETS.loadedMb],
    [
      `first start → /readyz ≤ ${TARGETS.firstReadyS} s`,
      `${fmt.s(first.readyzS)} s (/healthz ${fmt.s(first.healthzS)} s)`,
      first.readyzS <= TARGETS.firstReadyS,
    ],
    [
      `warm start → /readyz ≤ ${TARGETS.warmReadyS} s`,
      `${fmt.s(warm.readyzS)} s (/healthz ${fmt.s(warm.healthzS)} s)`,
      warm.readyzS <= TARGETS.warmReadyS,
    ],
  ];
  if ('rssMb' in prod) {
    checks.push([
      `production web, admin loaded, idle ≤ ${TARGETS.prodWebMb} MB (RSS)`,
      `${fmt.int(prod.rssMb)} MB (ready in ${fmt.s(prod.readyS)} s)`,
      prod.rssMb <= TARGETS.prodWebMb,
    ]);
  }
  process.stdout.write(table([['target', 'measured', ''], ...checks.map(([t, m, ok]) => [t, m, verdict(ok)])]) + '\n');
  if ('skipped' in prod) process.stdout.write(`production web: skipped (${prod.skipped})\n`);
  const load1 = os.loadavg()[0];
  process.stdout.write(`\n(load average during the run: ${load1.toFixed(1)} on ${os.cpus().length} cores; start times move with it)\n`);

  const resultsDir = path.join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `footprint-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { at: new Date().toISOString(), targets: TARGETS, first, warm, firstIdle, idle, loaded, production: prod, loadavg: os.loadavg() },
      null,
      2,
    ),
  );
  process.stdout.write(`results: ${path.relative(root, file)}\n`);
}

try {
  await main();
} finally {
  await cleanup();
}
process.exit(0);

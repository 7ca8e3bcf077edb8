/**
 * What every bench needs around its measurements: a cleanup registry (whatever a bench
 * starts, it stops — on success, error, Ctrl-C or SIGTERM) and a throwaway Faultline:
 * `npm start` in a temp DATA_DIR with its own PostgreSQL and Redis, as a user's first
 * run gets them.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pickPort } from '../src/devstack/process.ts';
import { logTail, reapLeftovers } from './lib.ts';

export const root = fileURLToPath(new URL('../', import.meta.url));
export const say = (msg: string) => process.stdout.write(`[bench] ${msg}\n`);

const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | null = null;

export function onCleanup(stop: () => Promise<void>): void {
  cleanups.push(stop);
}

/** True once a stop has begun (Ctrl-C, SIGTERM, or the end of the run). */
export const stopping = () => cleaning !== null;

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const stop of cleanups.reverse()) await stop().catch((err) => say(`cleanup: ${(err as Error).message}`));
  })();
  return cleaning;
}

/**
 * A bench's entry point: runs `main`, stops what it started, exits 0 — or reports the
 * failure (not after a Ctrl-C: the stack dying under us is then expected) and exits 1.
 */
export async function runBench(main: () => Promise<void>, log: (msg: string) => void = say): Promise<never> {
  try {
    await main();
    await cleanup();
    process.exit(0);
  } catch (err) {
    if (!stopping()) log(`failed: ${(err as Error).message ?? err}`);
    await cleanup();
    process.exit(1);
  }
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    say(cleaning ? 'still stopping…' : `${signal}: stopping what the bench started…`);
    void cleanup().then(() => process.exit(code));
  });
}

export async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await pickPort());
  return [...ports];
}

export interface ThrowawayStack {
  url: string;
  dir: string;
  logFile: string;
  databaseUrl: string;
  /** The launcher's pid: every process of the stack runs under it (bench/cpu.ts reads them). */
  pid: number;
  /** Stops it now (also run at cleanup; the second call does nothing). */
  stop(): Promise<void>;
}

/** Starts the stack (extra environment variables on top), waits for /healthz, and registers its stop. */
export async function startThrowawayStack(tag: string, extraEnv: Record<string, string> = {}): Promise<ThrowawayStack> {
  const [port, pgPort, redisPort] = await distinctPorts(3);
  const dir = mkdtempSync(path.join(os.tmpdir(), `faultline-bench-${tag}-`));
  chmodSync(dir, 0o755); // PostgreSQL runs as the `postgres` user when we are root
  const logFile = path.join(dir, 'stack.log');
  const out = openSync(logFile, 'a');
  say(`starting a throwaway stack on 127.0.0.1:${port} (data in ${dir})`);
  const child = spawn(process.execPath, [path.join(root, 'bin/run.mjs'), 'cli/start'], {
    cwd: root,
    // Empty DATABASE_URL/REDIS_URL mean "unset" and keep a developer's .env from pointing us elsewhere.
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
      PUBLIC_URL: '',
      // A benchmark is a storm by design: spike protection would refuse most of it.
      QUOTA_SPIKE_PROTECTION: 'false',
      ...extraEnv,
    },
    // Own process group: a terminal Ctrl-C reaches the bench, which then stops the stack in order.
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let stopped: Promise<void> | null = null;
  const stop = () => (stopped ??= stopStack());
  onCleanup(stop);
  const stopStack = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      say('stopping the throwaway stack…');
      child.kill('SIGTERM'); // it stops web and worker, then Redis, then PostgreSQL
      const timer = setTimeout(() => {
        say('the stack did not stop within 60 s: killing it');
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 60_000);
      await exited;
      clearTimeout(timer);
    }
    // Stopped before its services were up (or killed), the launcher can leave them behind.
    await reapLeftovers(path.join(dir, 'postgres', 'postmaster.pid'), redisPort, say);
    rmSync(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the stack exited during startup:\n${logTail(logFile, 20)}`);
    if (Date.now() > deadline) throw new Error(`the stack was not ready after 120 s:\n${logTail(logFile, 20)}`);
    // Ready once the web answers and the launcher has written stack.json (it does so right after).
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    const stackFile = path.join(dir, 'stack.json');
    if (ok && existsSync(stackFile)) {
      const { databaseUrl } = JSON.parse(readFileSync(stackFile, 'utf8')) as { databaseUrl: string };
      return { url, dir, logFile, databaseUrl, pid: child.pid!, stop };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

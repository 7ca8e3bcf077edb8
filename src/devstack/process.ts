import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { openSync, readFileSync } from 'node:fs';

/** True when nothing listens on 127.0.0.1:port. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `preferred` when free, else any free port the OS hands out. */
export async function pickPort(preferred?: number): Promise<number> {
  if (preferred && (await portFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Service {
  child: ChildProcess;
  /** Ask it to stop with `signal`; SIGKILL after `graceMs`. Resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * Spawns a server process. With `logFile`, its output goes there (so a detached
 * server does not depend on our pipes); `detached` puts it in its own process group
 * so a terminal's Ctrl-C reaches us first and we stop things in order.
 */
export function spawnService(cmd: string, args: string[], opts: SpawnOptions & { logFile?: string }): Service {
  const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', out, out] });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  return {
    child,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `probe` until it resolves true, the service exits, or `timeoutMs` passes. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  service: Service | null,
  timeoutMs: number,
  what: string,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void service?.exited.then(() => (exitedEarly = true));
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`${what} exited during startup${logTail(logFile)}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${logTail(logFile)}`);
}

function logTail(file?: string): string {
  if (!file) return '';
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15);
    return `; last lines of ${file}:\n  ${lines.join('\n  ')}`;
  } catch {
    return '';
  }
}

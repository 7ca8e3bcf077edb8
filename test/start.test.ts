/**
 * `npm start` end to end, as a newcomer runs it: local PostgreSQL and Redis, migrations,
 * web and worker; the README's curl flow works; Ctrl-C (SIGINT) leaves nothing running;
 * a restart keeps data and the generated secrets (tokens stay valid). A crashed web or
 * worker is restarted while PostgreSQL and Redis keep running; a crash loop gives up.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../src/config.ts';
import { pickPort, portFree } from '../src/devstack/process.ts';
import { RestartPolicy } from '../src/devstack/restartPolicy.ts';
import { eventually } from './helpers/stack.ts';
import { PASSWORD, pantiesEvent, uniqueEmail } from './helpers/factories.ts';

const runner = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'faultline-start-'));
chmodSync(dataDir, 0o755);

interface Started {
  child: ChildProcess;
  output: () => string;
  base: string;
}

async function start(ports: { web: number; pg: number; redis: number }, extraEnv: Record<string, string> = {}): Promise<Started> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    PORT: String(ports.web),
    LOCAL_PG_PORT: String(ports.pg),
    LOCAL_REDIS_PORT: String(ports.redis),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'QUEUE_PREFIX']) if (!(k in extraEnv)) delete env[k];
  const child = spawn(process.execPath, [runner, 'cli/start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out, base: `http://127.0.0.1:${ports.web}` };
}

const exitOf = (c: ChildProcess) =>
  new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

interface StackPids {
  /** START_MODE=single (the default): web and workers in one process. */
  standalone?: number;
  web?: number;
  worker?: number;
  postgres?: number;
  redis?: number;
}

/** The supervisor's own children, by what they run (web and worker are `node bin/run.mjs <entry>`). */
function childrenOf(supervisor: number): StackPids {
  const ps = spawnSync('ps', ['--ppid', String(supervisor), '-o', 'pid=,args='], { encoding: 'utf8' });
  const pids: StackPids = {};
  for (const line of ps.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [pid, args] = [Number(m[1]), m[2]];
    if (/run\.mjs standalone$/.test(args)) pids.standalone = pid;
    else if (/run\.mjs web$/.test(args)) pids.web = pid;
    else if (/run\.mjs worker$/.test(args)) pids.worker = pid;
    else if (/redis-server/.test(args)) pids.redis = pid;
    else if (/postgres.* -D /.test(args)) pids.postgres = pid;
  }
  return pids;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** After a failed assertion: stop a supervisor still running, so it does not outlive the test. */
async function stopIfRunning(s: Started | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGINT');
  await exitOf(s.child);
}

/** One CONFIG GET against the local Redis, closing the connection whatever happens. */
async function redisConfig(port: number, key: string): Promise<string | undefined> {
  const redis = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    return ((await redis.config('GET', key)) as string[])[1];
  } finally {
    redis.disconnect();
  }
}

async function untilReady(s: Started): Promise<void> {
  try {
    await eventually(async () => s.output().includes('ready:'), 90_000, 200);
  } catch (err) {
    throw new Error(`${err}\n${s.output()}`, { cause: err });
  }
}

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

// Full starts (initdb, migrations, the app) on a busy 2-core CI box.
jest.setTimeout(180_000);

describe('npm start', () => {
  it('brings the whole system up, serves the README flow, and Ctrl-C leaves nothing running; a restart keeps data and tokens', async () => {
    const ports = { web: await pickPort(), pg: await pickPort(), redis: await pickPort() };
    let s = await start(ports);
    await untilReady(s);
    expect(s.output()).toContain(`${ports.web}/api/docs/`);

    const json = (r: Response) => r.json() as Promise<Record<string, any>>;
    const post = (url: string, body: unknown, auth?: string) =>
      fetch(`${s.base}${url}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify(body),
      });
    const email = uniqueEmail();
    const reg = await json(await post('/api/auth/register/', { email, password: PASSWORD }));
    const { access } = await json(await post('/api/auth/login/', { email, password: PASSWORD }));
    expect((await post('/api/events/', pantiesEvent({ event_id: 'from-start' }), reg.project.api_key)).status).toBe(202);
    const readBack = () =>
      fetch(`${s.base}/api/projects/${reg.project.id}/events/`, { headers: { Authorization: `Bearer ${access}` } }).then(json);
    await eventually(async () => (await readBack()).count === 1, 30_000);

    // One process holds the API and the workers (START_MODE=single): killed, it is restarted
    // while PostgreSQL and Redis keep running, and ingestion and storage resume.
    const before = childrenOf(s.child.pid!);
    expect(before).toEqual({ standalone: expect.any(Number), postgres: expect.any(Number), redis: expect.any(Number) });
    process.kill(before.standalone!, 'SIGKILL');
    await eventually(async () => s.output().includes('web+worker exited (SIGKILL); restarting in 1 s (crash 1 of 5 in 60 s)'), 10_000, 20);
    await eventually(
      async () => {
        const now = childrenOf(s.child.pid!).standalone;
        return now !== undefined && now !== before.standalone && (await fetch(`${s.base}/healthz`)).ok;
      },
      60_000,
      200,
    );
    expect(childrenOf(s.child.pid!)).toMatchObject({ postgres: before.postgres, redis: before.redis });
    expect((await post('/api/events/', pantiesEvent({ event_id: 'after-restart' }), reg.project.api_key)).status).toBe(202);
    await eventually(async () => (await readBack()).count === 2, 60_000);

    // Ctrl-C
    s.child.kill('SIGINT');
    expect(await exitOf(s.child)).toBe(0);
    expect(s.output()).toContain('nothing left running');
    for (const port of Object.values(ports)) expect(await portFree(port)).toBe(true);
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    expect(() => readFileSync(pidFile)).toThrow(); // PostgreSQL shut down cleanly

    // Restart: same data, same secrets, so the token issued before still works.
    s = await start(ports);
    await eventually(async () => s.output().includes('ready:'), 90_000, 200);
    const again = await readBack();
    expect(again.results.map((e: { event_id: string }) => e.event_id).sort()).toEqual(['after-restart', 'from-start']);
    s.child.kill('SIGTERM');
    expect(await exitOf(s.child)).toBe(0);
  });

  it('Ctrl-C while PostgreSQL is still starting leaves nothing running', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faultline-start-int-'));
    chmodSync(dir, 0o755);
    try {
      const ports = { web: await pickPort(), pg: await pickPort(), redis: await pickPort() };
      const s = await start(ports, { DATA_DIR: dir });
      await eventually(async () => s.output().includes('starting PostgreSQL'), 60_000, 20);
      s.child.kill('SIGINT');
      expect(await exitOf(s.child)).not.toBeNull();
      for (const port of Object.values(ports)) expect(await portFree(port)).toBe(true);
      expect(() => readFileSync(path.join(dir, 'postgres', 'postmaster.pid'))).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without redis-server on PATH it says how to install it, and exits', async () => {
    const ports = { web: await pickPort(), pg: await pickPort(), redis: await pickPort() };
    const s = await start(ports, { PATH: path.join(dataDir, 'empty-bin'), DATABASE_URL: process.env.DATABASE_URL! });
    expect(await exitOf(s.child)).toBe(1);
    expect(s.output()).toContain('apt-get install -y redis-server');
    expect(s.output()).toContain('brew install redis');
    expect(s.output()).toContain('REDIS_URL');
  });

  it('restarts a SIGKILLed web or worker with backoff while PostgreSQL and Redis keep running, and Ctrl-C during a pending restart still stops everything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faultline-start-crash-'));
    chmodSync(dir, 0o755);
    let started: Started | undefined;
    try {
      const ports = { web: await pickPort(), pg: await pickPort(), redis: await pickPort() };
      // The production shape (separate web and worker processes); a long window: on a slow
      // machine the second web crash must still count as the second.
      const s = await start(ports, {
        DATA_DIR: dir,
        START_MODE: 'separate',
        SUPERVISOR_RESTART_DELAY_MS: '2000',
        SUPERVISOR_CRASH_WINDOW_SECONDS: '600',
      });
      started = s;
      await untilReady(s);
      const supervisor = s.child.pid!;

      // npm start's Redis is capped (LOCAL_REDIS_MAXMEMORY, default 512mb) and never evicts jobs.
      expect(await redisConfig(ports.redis, 'maxmemory')).toBe(String(512 * 1024 ** 2));
      expect(await redisConfig(ports.redis, 'maxmemory-policy')).toBe('noeviction');

      const json = (r: Response) => r.json() as Promise<Record<string, any>>;
      const post = (url: string, body: unknown, auth?: string) =>
        fetch(`${s.base}${url}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: `Bearer ${auth}` } : {}) },
          body: JSON.stringify(body),
        });
      const email = uniqueEmail();
      const reg = await json(await post('/api/auth/register/', { email, password: PASSWORD }));
      const { access } = await json(await post('/api/auth/login/', { email, password: PASSWORD }));
      const ingest = (id: string) => post('/api/events/', pantiesEvent({ event_id: id }), reg.project.api_key).then((r) => r.status);
      const stored = () =>
        fetch(`${s.base}/api/projects/${reg.project.id}/events/`, { headers: { Authorization: `Bearer ${access}` } })
          .then(json)
          .then((b) => b.count as number);
      expect(await ingest('before-crash')).toBe(202);
      await eventually(async () => (await stored()) === 1, 30_000);

      const before = childrenOf(supervisor);
      expect(before).toEqual({
        web: expect.any(Number),
        worker: expect.any(Number),
        postgres: expect.any(Number),
        redis: expect.any(Number),
      });

      // The web process dies: it is announced, restarted, and answers again; the data stores stay.
      process.kill(before.web!, 'SIGKILL');
      await eventually(async () => s.output().includes('web exited (SIGKILL); restarting in 2 s (crash 1 of 5 in 600 s)'), 10_000, 20);
      await eventually(
        async () => {
          const web = childrenOf(supervisor).web;
          return web !== undefined && web !== before.web && (await fetch(`${s.base}/healthz`)).ok;
        },
        60_000,
        200,
      );
      const afterWeb = childrenOf(supervisor);
      expect(afterWeb.postgres).toBe(before.postgres);
      expect(afterWeb.redis).toBe(before.redis);
      expect(afterWeb.worker).toBe(before.worker);
      expect(await stored()).toBe(1); // the row written before, read with the token issued before

      // The worker dies: events accepted while it is down and after its restart are all stored.
      process.kill(before.worker!, 'SIGKILL');
      expect(await ingest('while-worker-down')).toBe(202);
      await eventually(async () => s.output().includes('worker exited (SIGKILL); restarting in 2 s (crash 1 of 5 in 600 s)'), 10_000, 20);
      const afterWorker = await eventually(
        async () => {
          const now = childrenOf(supervisor);
          return now.worker !== undefined && now.worker !== before.worker ? now : null;
        },
        60_000,
        200,
      );
      expect(await ingest('after-worker-restart')).toBe(202);
      await eventually(async () => (await stored()) === 3, 60_000, 200);
      expect(afterWorker.postgres).toBe(before.postgres);
      expect(afterWorker.redis).toBe(before.redis);

      // A second web crash within the window waits twice as long; Ctrl-C while it waits stops all.
      process.kill(afterWorker.web!, 'SIGKILL');
      await eventually(async () => s.output().includes('web exited (SIGKILL); restarting in 4 s (crash 2 of 5 in 600 s)'), 10_000, 20);
      s.child.kill('SIGINT');
      expect(await exitOf(s.child)).toBe(0);
      expect(s.output()).toContain('nothing left running');
      for (const pid of [afterWorker.postgres!, afterWorker.redis!, afterWorker.worker!]) expect(alive(pid)).toBe(false);
      for (const port of Object.values(ports)) expect(await portFree(port)).toBe(true);
      expect(() => readFileSync(path.join(dir, 'postgres', 'postmaster.pid'))).toThrow();
    } finally {
      await stopIfRunning(started);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a process that crashes at every start: exits non-zero, says why, and leaves nothing running', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'faultline-start-loop-'));
    chmodSync(dir, 0o755);
    // Something else holds the web port, so every web start fails to listen (EADDRINUSE).
    // It drops connections, so the supervisor's /healthz probe never mistakes it for web.
    const squatter = createServer((socket) => socket.destroy());
    const ports = { web: await pickPort(), pg: await pickPort(), redis: await pickPort() };
    await new Promise<void>((resolve) => squatter.listen(ports.web, '127.0.0.1', resolve));
    let started: Started | undefined;
    try {
      const s = await start(ports, {
        DATA_DIR: dir,
        HOST: '127.0.0.1',
        SUPERVISOR_MAX_CRASHES: '3',
        SUPERVISOR_CRASH_WINDOW_SECONDS: '600',
        SUPERVISOR_RESTART_DELAY_MS: '100',
        LOCAL_REDIS_MAXMEMORY: '64mb',
      });
      started = s;
      const supervisor = s.child.pid!;
      const running = await eventually(
        async () => {
          const now = childrenOf(supervisor);
          return now.postgres && now.redis ? now : null;
        },
        90_000,
        100,
      );
      // LOCAL_REDIS_MAXMEMORY reaches the local Redis (read while it runs: the web needs seconds to fail 3 times).
      expect(await redisConfig(ports.redis, 'maxmemory')).toBe(String(64 * 1024 ** 2));

      const code = await exitOf(s.child);
      const out = s.output();
      expect(code).toBe(1);
      expect(out).toContain('EADDRINUSE'); // the web's own error, on the supervisor's output
      expect(out).toContain('web+worker exited (1); restarting in 0.1 s (crash 1 of 3 in 600 s)');
      expect(out).toContain('web+worker exited (1); restarting in 0.2 s (crash 2 of 3 in 600 s)');
      expect(out).toContain('web+worker exited (1): it crashed 3 times within 600 s; giving up.');
      expect(out).not.toContain('ready:');
      expect(out).toContain('nothing left running');
      expect(out).toMatch(/starting Redis on 127\.0\.0\.1:\d+ \(maxmemory 64 MB, noeviction\)/);
      for (const pid of [running.postgres!, running.redis!]) expect(alive(pid)).toBe(false);
      expect(await portFree(ports.pg)).toBe(true);
      expect(await portFree(ports.redis)).toBe(true);
      expect(() => readFileSync(path.join(dir, 'postgres', 'postmaster.pid'))).toThrow();
    } finally {
      await stopIfRunning(started);
      await new Promise((resolve) => squatter.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('restart policy of npm start', () => {
  const policy = (o: Partial<ConstructorParameters<typeof RestartPolicy>[0]> = {}) =>
    new RestartPolicy({ maxCrashes: 5, windowMs: 60_000, initialDelayMs: 1000, maxDelayMs: 8000, ...o });

  it('doubles the delay after each quick crash, up to the cap', () => {
    const p = policy({ maxCrashes: 100 });
    const delays = [1, 2, 3, 4, 5, 6].map((i) => p.onExit(i * 1000 - 500, i * 1000));
    expect(delays.map((d) => (d.restart ? d.delayMs : null))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('gives up at the maxCrashes-th crash within the window', () => {
    const p = policy();
    const decisions = [1, 2, 3, 4, 5].map((i) => p.onExit(i * 1000 - 500, i * 1000));
    expect(decisions.map((d) => d.restart)).toEqual([true, true, true, true, false]);
    expect(decisions[4].crashes).toBe(5);
  });

  it('forgets crashes older than the window', () => {
    const p = policy();
    for (const t of [0, 10_000, 20_000, 30_000]) p.onExit(t - 500, t);
    const fifth = p.onExit(74_500, 75_000); // 0 s and 10 s are more than 60 s ago
    expect(fifth).toMatchObject({ restart: true, crashes: 3 });
  });

  it('starts the backoff over for a process that ran for a whole window', () => {
    const p = policy();
    for (const t of [1000, 2000, 3000]) p.onExit(t - 500, t);
    expect(p.onExit(3500, 4000)).toMatchObject({ restart: true, delayMs: 8000 });
    expect(p.onExit(10_000, 70_000)).toMatchObject({ restart: true, delayMs: 1000, crashes: 1 });
  });

  it('is configured by SUPERVISOR_* (defaults 5 crashes in 60 s, 1 s doubling to 30 s), checked at startup', () => {
    const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: process.env.DATA_DIR };
    expect(loadConfig(base).supervisor).toEqual({ maxCrashes: 5, windowMs: 60_000, initialDelayMs: 1000, maxDelayMs: 30_000 });
    expect(loadConfig(base).local.redisMaxmemory).toBe(512 * 1024 ** 2);
    expect(loadConfig({ ...base, LOCAL_REDIS_MAXMEMORY: '0' }).local.redisMaxmemory).toBe(0);
    const inverted = { ...base, SUPERVISOR_RESTART_DELAY_MS: '5000', SUPERVISOR_RESTART_DELAY_MAX_MS: '1000' };
    expect(() => loadConfig(inverted)).toThrow(ConfigError);
    expect(() => loadConfig(inverted)).toThrow(/SUPERVISOR_RESTART_DELAY_MS/);
    expect(() => loadConfig({ ...base, SUPERVISOR_MAX_CRASHES: '0' })).toThrow(/SUPERVISOR_MAX_CRASHES/);
    expect(() => loadConfig({ ...base, LOCAL_REDIS_MAXMEMORY: 'plenty' })).toThrow(/LOCAL_REDIS_MAXMEMORY/);
  });
});

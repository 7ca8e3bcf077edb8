/**
 * `npm start` end to end, as a newcomer runs it: local PostgreSQL and Redis, migrations,
 * web and worker; the README's curl flow works; Ctrl-C (SIGINT) leaves nothing running;
 * a restart keeps data and the generated secrets (tokens stay valid).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { pickPort, portFree } from '../src/devstack/process.ts';
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

const exitOf = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

// Two full starts (initdb, two processes compiling TypeScript) on a busy 2-core CI box.
jest.setTimeout(180_000);

describe('npm start', () => {
  it('brings the whole system up, serves the README flow, and Ctrl-C leaves nothing running; a restart keeps data and tokens', async () => {
    const ports = { web: await pickPort(), pg: await pickPort(), redis: await pickPort() };
    let s = await start(ports);
    try {
      await eventually(async () => s.output().includes('ready:'), 90_000, 200);
    } catch (err) {
      throw new Error(`${err}\n${s.output()}`);
    }
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
    expect(again.results[0].event_id).toBe('from-start');
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
});

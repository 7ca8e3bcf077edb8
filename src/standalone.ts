import { buildWeb } from './api/index.ts';
import { config, requireUrl } from './config.ts';
import { createDataSource } from './db/data-source.ts';
import { guardProcess, handleShutdown } from './lifecycle.ts';
import { logger } from './logger.ts';
import { waitReady, workerConnection } from './queues/connection.ts';
import { startConsumers } from './workers/index.ts';

guardProcess();

/**
 * `npm start`'s default: the web process and every queue consumer in one process, for a
 * small machine (one Node.js runtime and one copy of the shared code instead of two).
 * The same code as `npm run web` + `npm run worker` — the production shape, which
 * `START_MODE=separate` runs instead. The admin is built on its first request.
 */
const urls = { databaseUrl: requireUrl('DATABASE_URL', config.databaseUrl), redisUrl: requireUrl('REDIS_URL', config.redisUrl) };
const web = await buildWeb(urls, { admin: config.admin.enabled ? 'lazy' : false });
web.server.listen(config.http.port, config.http.host, () =>
  logger.info({ host: config.http.host, port: config.http.port }, 'web listening'),
);

const ds = createDataSource({ url: urls.databaseUrl, poolSize: config.databasePoolSize, applicationName: 'faultline-worker' });
await ds.initialize();
const redis = workerConnection(urls.redisUrl);
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
await waitReady(redis);
const workers = await startConsumers(redis, ds, logger);
logger.info({ queues: workers.map((w) => w.name) }, 'workers started');

handleShutdown(
  [
    // HTTP first (accepted requests finish their group commit), then the jobs in flight.
    ['web', () => web.close()],
    ['workers', () => Promise.all(workers.map((w) => w.close()))],
    ['redis', () => redis.quit()],
    ['database', () => ds.destroy()],
  ],
  config.shutdownTimeoutMs,
);

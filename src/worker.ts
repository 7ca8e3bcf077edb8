import { config, requireUrl } from './config.ts';
import { createDataSource } from './db/data-source.ts';
import { guardProcess, handleShutdown } from './lifecycle.ts';
import { logger } from './logger.ts';
import { waitReady, workerConnection } from './queues/connection.ts';
import { startConsumers } from './workers/index.ts';
import { outcomes } from './domain/outcomes/recorder.ts';

guardProcess();

/** `npm run worker`: every queue consumer. Stateless; run as many as you like. */
const ds = createDataSource({
  url: requireUrl('DATABASE_URL', config.databaseUrl),
  poolSize: config.databasePoolSize,
  applicationName: 'faultline-worker',
});
await ds.initialize();
// Outcomes counted in this process (src/domain/outcomes) are flushed on an interval and at shutdown.
outcomes.attach(ds);
const redis = workerConnection(requireUrl('REDIS_URL', config.redisUrl));
redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
await waitReady(redis);
const workers = await startConsumers(redis, ds, logger);
logger.info({ queues: workers.map((w) => w.name), concurrency: config.worker.concurrency }, 'workers started');

handleShutdown(
  [
    // close() waits for in-flight jobs to finish; nothing new is taken meanwhile.
    ['workers', () => Promise.all(workers.map((w) => w.close()))],
    ['redis', () => redis.quit()],
    ['outcomes', () => outcomes.detach(ds)],
    ['database', () => ds.destroy()],
  ],
  config.shutdownTimeoutMs,
);

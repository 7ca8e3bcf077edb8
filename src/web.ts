import { buildWeb } from './api/index.ts';
import { config, requireUrl } from './config.ts';
import { guardProcess, handleShutdown } from './lifecycle.ts';
import { logger } from './logger.ts';

guardProcess();

/** `npm run web`: the API, admin and docs. Stateless; run as many as you like. */
const web = await buildWeb({
  databaseUrl: requireUrl('DATABASE_URL', config.databaseUrl),
  redisUrl: requireUrl('REDIS_URL', config.redisUrl),
});

web.server.listen(config.http.port, config.http.host, () => {
  logger.info({ host: config.http.host, port: config.http.port }, 'web listening');
});

handleShutdown(
  [
    // Stops accepting, lets in-flight requests finish their group commit, then closes Redis and PostgreSQL.
    ['web', () => web.close()],
  ],
  config.shutdownTimeoutMs,
);

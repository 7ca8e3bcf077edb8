import { Redis, type RedisOptions } from 'ioredis';

/**
 * Producers fail fast (no offline queue, one retry) so the API can answer 503 instead
 * of hanging while Redis is away. Workers wait forever (`maxRetriesPerRequest: null`),
 * as BullMQ requires for blocking commands.
 */
export function producerConnection(url: string, name = 'faultline-api'): Redis {
  return new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  } satisfies RedisOptions);
}

export function workerConnection(url: string, name = 'faultline-worker'): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  } satisfies RedisOptions);
}

/** Wait until the client is ready (or fail after `ms`), so startup errors are clear. */
export async function waitReady(redis: Redis, ms = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not reachable after ${ms} ms`));
    }, ms);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

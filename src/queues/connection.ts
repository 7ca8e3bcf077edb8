import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisTarget } from './redisUrl.ts';

/**
 * The one place Redis connections are made: a `Redis` for one server, a `Cluster` when
 * the URL names cluster nodes (src/queues/redisUrl.ts). Both speak the same commands, so
 * the rest of the code takes a `RedisClient`. On a cluster every key must start with the
 * hash-tagged queue prefix (config checks it): BullMQ's scripts, our pipelines and
 * connect-redis's multi-key calls then stay in one slot.
 */
export type RedisClient = Redis | Cluster;

export type RedisRole =
  /**
   * Producers fail fast (no offline queue, one retry) so the API can answer 503 instead
   * of hanging while Redis is away.
   */
  | 'producer'
  /** Workers wait forever (`maxRetriesPerRequest: null`), as BullMQ requires for blocking commands. */
  | 'worker'
  /** Pub/sub subscribers: reconnect and resubscribe on their own; commands wait for the connection. */
  | 'subscriber';

const retryStrategy = (times: number) => Math.min(times * 200, 2000);

function roleOptions(role: RedisRole): RedisOptions {
  if (role === 'producer') return { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 };
  if (role === 'worker') return { maxRetriesPerRequest: null };
  return {};
}

export function createRedis(url: string, role: RedisRole, name: string): RedisClient {
  const target = parseRedisTarget(url);
  if (!target.cluster) return new Redis(url, { connectionName: name, retryStrategy, ...roleOptions(role) } satisfies RedisOptions);
  const { enableOfflineQueue, ...perNode } = roleOptions(role);
  return new Cluster(target.nodes, {
    // Cluster-wide: the offline queue is the cluster's (a producer's command fails while no slot map is known).
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy,
    enableReadyCheck: true,
    redisOptions: {
      connectionName: name,
      username: target.username,
      password: target.password,
      tls: target.tls ? {} : undefined,
      ...perNode,
    },
  } satisfies ClusterOptions);
}

export function producerConnection(url: string, name = 'faultline-api'): RedisClient {
  return createRedis(url, 'producer', name);
}

export function workerConnection(url: string, name = 'faultline-worker'): RedisClient {
  return createRedis(url, 'worker', name);
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/**
 * INFO <section> from the server(s) holding our keys. On a cluster they all sit in the
 * prefix's slot, on one master: the master with the most memory in use is answered (a
 * conservative choice that needs no slot arithmetic).
 */
export async function infoOfKeyspace(redis: RedisClient, section: string): Promise<string> {
  if (!isCluster(redis)) return redis.info(section);
  const infos = await Promise.all(redis.nodes('master').map((n) => n.info(section)));
  const used = (s: string) => Number(/^used_memory:(\d+)/m.exec(s)?.[1] ?? 0);
  return infos.reduce((a, b) => (used(b) > used(a) ? b : a), infos[0] ?? '');
}

/** Wait until the client is ready (or fail after `ms`), so startup errors are clear. */
export async function waitReady(redis: RedisClient, ms = 10_000): Promise<void> {
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

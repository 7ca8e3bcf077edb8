import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../src/config.ts';

const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATA_DIR: process.env.DATA_DIR };

describe('config', () => {
  it('has defaults for everything but secrets', () => {
    const c = loadConfig(base);
    expect(c.http.port).toBe(3000);
    expect(c.ingest.maxEventBytes).toBe(1024 * 1024);
    expect(c.ingest.maxRequestBytes).toBe(10 * 1024 * 1024);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses sizes and numbers', () => {
    const c = loadConfig({ ...base, PORT: '8080', INGEST_MAX_EVENT_BYTES: '512kb', INGEST_MAX_REQUEST_BYTES: '2mb' });
    expect(c.http.port).toBe(8080);
    expect(c.ingest.maxEventBytes).toBe(512 * 1024);
    expect(c.ingest.maxRequestBytes).toBe(2 * 1024 * 1024);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'localhost:6379'],
    ['INGEST_MAX_EVENT_BYTES', 'a lot'],
    ['INGEST_MAX_REDIS_MEMORY', 'most of it'],
    ['INGEST_REDIS_MEMORY_FRACTION', '1.5'],
    ['LOG_LEVEL', 'chatty'],
    ['JWT_SECRET', 'short'],
  ])('a bad %s stops startup with a message naming it', (name, value) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`\\b${name}\\b`));
  });

  it('load shedding by bytes: no absolute Redis limit unless set (then a fraction of maxmemory applies), 64 MB held per process', () => {
    expect(loadConfig(base).ingest).toMatchObject({ maxRedisMemory: null, redisMemoryFraction: 0.8, maxPendingBytes: 64 * 1024 * 1024 });
    expect(loadConfig({ ...base, INGEST_MAX_REDIS_MEMORY: '2gb', INGEST_REDIS_MEMORY_FRACTION: '0.5' }).ingest).toMatchObject({
      maxRedisMemory: 2 * 1024 ** 3,
      redisMemoryFraction: 0.5,
    });
  });

  it('Redis: one server, or a cluster named by its nodes (REDIS_URL list or REDIS_CLUSTER_NODES) with a hash-tagged prefix', () => {
    expect(loadConfig({ ...base, REDIS_URL: 'redis://h:6379/2' })).toMatchObject({
      redisUrl: 'redis://h:6379/2',
      redisCluster: false,
      queuePrefix: 'faultline',
    });
    expect(loadConfig({ ...base, REDIS_URL: 'redis://:pw@h1:7000,h2:7001' })).toMatchObject({
      redisCluster: true,
      queuePrefix: '{faultline}',
    });
    expect(loadConfig({ ...base, REDIS_URL: 'rediss://u:pw@x:1', REDIS_CLUSTER_NODES: 'h1:7000, h2:7001' })).toMatchObject({
      redisUrl: 'rediss://u:pw@h1:7000,h2:7001',
      redisCluster: true,
    });
    // One seed node is enough for a cluster client: marked so it is not taken for a single server.
    expect(loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h1:7000' })).toMatchObject({
      redisUrl: 'redis://h1:7000?cluster=true',
      redisCluster: true,
    });
    expect(loadConfig({ ...base, REDIS_URL: 'redis://h1:7000,h2:7001', QUEUE_PREFIX: 'app{fl}' }).queuePrefix).toBe('app{fl}');
    expect(() => loadConfig({ ...base, REDIS_URL: 'redis://h1:7000,h2:7001', QUEUE_PREFIX: 'faultline' })).toThrow(
      /QUEUE_PREFIX: .*hash tag, e.g. \{faultline\}/,
    );
    expect(() => loadConfig({ ...base, REDIS_URL: 'redis://h1:7000,h2:7001/3' })).toThrow(/REDIS_URL: a Redis Cluster has only database 0/);
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h1' })).toThrow(/REDIS_CLUSTER_NODES: "h1" is not host:port/);
  });

  it('production requires JWT_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: base.DATA_DIR })).toThrow(/JWT_SECRET/);
  });

  it('development generates a secret once and keeps it across restarts', () => {
    const dir = `${process.env.TEST_TMP_DIR}/dev-secrets-${Date.now()}`;
    const a = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const b = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    expect(a.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(b.jwt.secret).toBe(a.jwt.secret);
  });

  it('an event limit above the request limit is refused', () => {
    expect(() => loadConfig({ ...base, INGEST_MAX_EVENT_BYTES: '20mb' })).toThrow(/INGEST_MAX_EVENT_BYTES/);
  });
});

/**
 * Faultline on a real Redis Cluster: three `redis-server --cluster-enabled yes` masters on
 * loopback joined by `redis-cli --cluster create`. The web and worker get REDIS_URL listing
 * the nodes and a hash-tagged prefix; then ingest → BullMQ → worker → PostgreSQL, the live
 * tail's pub/sub, an admin session (connect-redis) and the login rate limit
 * (rate-limiter-flexible) must all work — and their keys must really be in the cluster
 * (the rate limiter and the live tail have in-process fallbacks that would hide a failure).
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Cluster } from 'ioredis';
import WebSocket from 'ws';
import { startRedisCluster, type LocalCluster } from './helpers/redisCluster.ts';

jest.setTimeout(120_000);

let cluster: LocalCluster;
type Stack = typeof import('./helpers/stack.ts');
type Factories = typeof import('./helpers/factories.ts');
let stack: Stack;
let factories: Factories;
let adminHttp: typeof import('./helpers/adminHttp.ts');
let web: Awaited<ReturnType<Stack['startWeb']>>;
let worker: Awaited<ReturnType<Stack['startWorker']>>;
let prefix: string;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  // Before anything imports config (it reads the environment once): every module is imported below.
  process.env.REDIS_URL = cluster.url;
  prefix = `{${process.env.QUEUE_PREFIX}}`;
  process.env.QUEUE_PREFIX = prefix;
  process.env.AUTH_RATE_LIMIT_PER_IP = '30';
  stack = await import('./helpers/stack.ts');
  factories = await import('./helpers/factories.ts');
  adminHttp = await import('./helpers/adminHttp.ts');
  const { config } = await import('../src/config.ts');
  expect([config.redisCluster, config.queuePrefix]).toEqual([true, prefix]);
  web = await stack.startWeb();
  worker = await stack.startWorker();
});

afterAll(async () => {
  await worker?.close();
  await web?.web.close();
  await cluster?.stop();
});

/** Keys matching `pattern` on every master of the cluster. */
async function clusterKeys(pattern: string): Promise<string[]> {
  const redis = web.web.redis as Cluster;
  const perNode = await Promise.all(redis.nodes('master').map((n) => n.keys(pattern)));
  return perNode.flat();
}

describe('on a Redis Cluster', () => {
  it('the web and the worker connect with Cluster clients that know all three masters', async () => {
    expect((web.web.redis as Cluster).isCluster).toBe(true);
    expect((worker.redis as Cluster).isCluster).toBe(true);
    expect((web.web.redis as Cluster).nodes('master')).toHaveLength(3);
  });

  it('readiness and load shedding read the cluster: /readyz answers ok, INFO memory comes from the fullest master', async () => {
    const ready = await web.http.get('/readyz');
    expect([ready.status, ready.body.checks.redis]).toEqual([200, 'ok']);
    const { infoOfKeyspace } = await import('../src/queues/connection.ts');
    const info = await infoOfKeyspace(web.web.redis, 'memory');
    const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
    const perMaster = await Promise.all(
      (web.web.redis as Cluster).nodes('master').map(async (n) => Number(/^used_memory:(\d+)/m.exec(await n.info('memory'))?.[1])),
    );
    expect(used).toBeGreaterThan(0);
    // The one the queues fill (all keys are in one slot): never a smaller figure than any master's.
    expect(used).toBeGreaterThanOrEqual(Math.min(...perMaster));
    expect(perMaster.length).toBe(3);
  });

  it('events ingested through the API are queued, taken by the worker and stored once', async () => {
    const u = await factories.createUser(web.web.ds);
    const events = Array.from({ length: 60 }, (_, i) =>
      factories.pantiesEvent({ event_id: `cluster-${i}`, message: `cluster event ${i % 3}` }),
    );
    for (let i = 0; i < events.length; i += 20) {
      const res = await web.http
        .post('/api/events/')
        .set('Authorization', `Bearer ${u.apiKey}`)
        .send(events.slice(i, i + 20));
      expect(res.status).toBe(202);
    }
    // A client retry of the first batch changes nothing.
    expect((await web.http.post('/api/events/').set('Authorization', `Bearer ${u.apiKey}`).send(events.slice(0, 20))).status).toBe(202);
    await stack.eventually(async () => (await stack.countEvents(worker.ds, u.personal.id)) === 60, 60_000);
    const [{ distinct }] = await worker.ds.query(`SELECT count(DISTINCT event_id)::int AS distinct FROM events WHERE project_id = $1`, [
      u.personal.id,
    ]);
    expect(distinct).toBe(60);
    expect(await stack.jobsAdded(web.web, 'events')).toBeGreaterThan(0);
    // The queue's keys are in the cluster, all in the one slot of the hash tag.
    const keys = await clusterKeys(`${prefix}:events:*`);
    expect(keys.length).toBeGreaterThan(0);
    const slots = new Set(await Promise.all(keys.map((k) => (web.web.redis as Cluster).cluster('KEYSLOT', k) as Promise<number>)));
    expect(slots.size).toBe(1);
  });

  it('the live tail hears logs stored by the worker (pub/sub across the cluster)', async () => {
    const u = await factories.createUser(web.web.ds);
    await web.web.live.ready;
    const base = (await stack.listen(web.web)).replace('http:', 'ws:');
    const ws = new WebSocket(`${base}/ws/logs/?token=${u.access}`);
    const received: Array<{ type: string; log?: { message: string; project: number } }> = [];
    ws.on('message', (d) => received.push(JSON.parse(d.toString())));
    try {
      await stack.eventually(async () => received.some((m) => m.type === 'connection_established'));
      const messages = ['first over the cluster', 'second over the cluster'];
      for (const message of messages) {
        const res = await web.http.post('/api/logs/').set('Authorization', `Bearer ${u.access}`).send({ message, severity: 'INFO' });
        expect(res.status).toBe(202);
      }
      await stack.eventually(
        async () => messages.every((m) => received.some((x) => x.log?.message === m && x.log.project === u.personal.id)),
        60_000,
      );
    } finally {
      ws.terminate();
    }
  });

  it('an admin session is kept in the cluster (connect-redis) and serves the admin API', async () => {
    const u = await factories.createUser(web.web.ds);
    const { agent } = await adminHttp.adminLogin(web.web, u.user.email);
    const list = await adminHttp.api(agent, '/resources/Project/actions/list');
    expect(list.status).toBe(200);
    expect((list.body as { records: Array<{ params: { id: number } }> }).records.map((r) => r.params.id)).toContain(u.personal.id);
    expect((await clusterKeys(`${prefix}:admin-sess:*`)).length).toBeGreaterThan(0);
  });

  it('the login rate limit counts in the cluster and answers 429', async () => {
    const email = factories.uniqueEmail('cluster-limited');
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++) {
      statuses.push((await web.http.post('/api/auth/login/').send({ email, password: 'wrong password' })).status);
    }
    expect(statuses).toContain(429);
    const res = await web.http.post('/api/auth/login/').send({ email, password: 'wrong password' });
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // Counted in Redis, not by the in-process stand-in the limiter falls back to.
    expect((await clusterKeys(`${prefix}:rl:auth-ip*`)).length).toBeGreaterThan(0);
  });
});

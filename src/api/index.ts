import type { IncomingMessage, Server } from 'node:http';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import { createDataSource } from '../db/data-source.ts';
import { Access, ApiKeyResolver } from '../domain/access/index.ts';
import type { QueueName } from '../queues/contract.ts';
import { producerConnection, waitReady, type RedisClient } from '../queues/connection.ts';
import { logger } from '../logger.ts';
import { createQueues, EventProducer } from '../queues/producer.ts';
import { LlmLogProducer, SpanProducer } from '../queues/llmLogProducer.ts';
import { SessionProducer } from '../queues/sessionProducer.ts';
import { LiveTail } from '../live/hub.ts';
import { AdminMount, type AdminLoad } from '../admin/index.ts';
import { createApp } from './app.ts';
import { artifactStore, dumpStores } from '../storage/index.ts';
import { EnvelopeAttachments } from '../domain/attachments/attachments.ts';
import { expectContinueHandler } from './expectContinue.ts';
import { clientIpOf } from './http/clientIp.ts';
import { createDispatcher, createHttpServer } from './server.ts';
import { ingestRoutes } from './ingest/routes.ts';
import type { IngestRoute } from './ingest/runner.ts';
import type { Express } from 'express';
import { queueSink } from '../queues/sink.ts';
import { outcomes } from '../domain/outcomes/recorder.ts';
import { InboundFilterCache } from '../domain/outcomes/inboundFilters.ts';
import { DiskGuard, Quotas } from '../domain/quotas/index.ts';

export interface Web {
  server: Server;
  /** The Express app (routes not on the lean path), and the ingest route table (the lean path). */
  app: Express;
  ingest: IngestRoute[];
  ds: DataSource;
  redis: RedisClient;
  queues: Record<QueueName, Queue>;
  producer: EventProducer;
  keys: ApiKeyResolver;
  /** Who is calling and what they may touch: every edge asks it. */
  access: Access;
  llmProducer: LlmLogProducer;
  /** Spans (OTLP traces, Sentry transactions and span items). */
  spanProducer: SpanProducer;
  /** The WebSocket live tail at /ws/logs/. */
  live: LiveTail;
  /** Quotas and spike protection (src/domain/quotas); `onRefused` is where outcomes connect. */
  quotas: Quotas;
  disk: DiskGuard;
  /** The back-office at /admin, built lazily (see AdminMount); null when disabled. */
  admin: AdminMount | null;
  close(): Promise<void>;
}

export interface WebOptions {
  /**
   * When to build the admin (importing AdminJS costs seconds): production before
   * listening, development in the background, tests on first use; false: no /admin.
   */
  admin?: AdminLoad | false;
}

const defaultAdminLoad = (): AdminLoad | false =>
  !config.admin.enabled ? false : config.isProduction ? 'eager' : config.env === 'development' ? 'background' : 'lazy';

/** Assembles the web process: PostgreSQL, the producer side of the queues, Express and the lean ingest path. */
export async function buildWeb(urls: { databaseUrl: string; redisUrl: string }, opts: WebOptions = {}): Promise<Web> {
  const ds = createDataSource({ url: urls.databaseUrl, poolSize: config.databasePoolSize, applicationName: 'faultline-web' });
  await ds.initialize();
  const redis = producerConnection(urls.redisUrl);
  redis.on('error', () => undefined); // reconnects on its own; ingest answers 503 meanwhile
  // Give Redis a moment at startup, but serve (reads, docs, /readyz) even if it is away.
  await waitReady(redis, 5000).catch(() => logger.warn('Redis not reachable yet; ingestion answers 503 until it is'));
  const queues = createQueues(redis, config.queuePrefix);
  const producerOptions = {
    windowMs: config.ingest.groupWindowMs,
    maxInFlight: config.ingest.groupMaxInFlight,
    maxItems: config.ingest.groupMaxEvents,
    maxBytes: config.ingest.groupMaxBytes,
    enqueueTimeoutMs: config.ingest.enqueueTimeoutMs,
    maxQueueDepth: config.ingest.maxQueueDepth,
    redisMemory: { max: config.ingest.maxRedisMemory, fraction: config.ingest.redisMemoryFraction },
    maxPendingBytes: config.ingest.maxPendingBytes,
  };
  const producer = new EventProducer(redis, queues, producerOptions);
  const keys = new ApiKeyResolver(ds, config.ingest.apiKeyCacheTtlMs);
  const llmProducer = new LlmLogProducer(producer, queues, producerOptions);
  const spanProducer = new SpanProducer(producer, queues, producerOptions);
  const sessionProducer = new SessionProducer(producer, queues, producerOptions);
  const access = new Access(ds, keys);
  const sink = queueSink(producer, queues, logger);
  const attachments = new EnvelopeAttachments(ds, artifactStore(), {
    maxBytes: config.artifacts.maxAttachmentBytes,
    quotaBytes: config.artifacts.attachmentQuotaBytes,
  });
  const quotas = new Quotas(ds, redis, { prefix: config.queuePrefix, ...config.quotas });
  const disk = new DiskGuard(config.diskGuard);
  // What quotas refuse is an outcome: rate_limited, per category, with the quota's reason (project_quota, key_quota, spike_protection).
  const QUOTA_OUTCOME = { error: 'error', log: 'log', llm: 'llm_log', span: 'span', dump_bytes: 'attachment' } as const;
  quotas.onRefused((projectId, category, reason, quantity) =>
    outcomes.record({ projectId, category: QUOTA_OUTCOME[category], outcome: 'rate_limited', reason, quantity }),
  );
  // The sender's address as Express computes req.ip (TRUST_PROXY), for the lean routes; known once the app is.
  const clientIp: { of?: (req: IncomingMessage) => string | undefined } = {};
  // What was dropped and why: counted in memory, added to the outcomes table on an interval and at close().
  outcomes.attach(ds);
  const filters = new InboundFilterCache(ds, config.outcomes.inboundFiltersCacheTtlMs);
  const routes = ingestRoutes({
    ds,
    access,
    producer,
    llmProducer,
    spanProducer,
    sink,
    stores: dumpStores(),
    sessions: sessionProducer,
    attachments,
    filters,
    clientIp: (req) => clientIp.of?.(req),
    quotas,
    disk,
  });
  const adminLoad = opts.admin ?? defaultAdminLoad();
  const admin = adminLoad ? new AdminMount({ ds, redis, queues, access }) : null;
  if (adminLoad === 'eager') await admin!.load();
  if (adminLoad === 'background') admin!.preload();
  const app = createApp({ ds, redis, queues, access, sink, routes, quotas, disk, admin: admin?.handler() });
  const dispatch = createDispatcher(app, routes);
  const trustProxy = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  clientIp.of = clientIpOf(trustProxy);
  // Uploads refused on their headers alone are answered before the client sends the body.
  const server = createHttpServer(dispatch, {
    onExpectContinue: expectContinueHandler(routes, dispatch),
    trustedProxy: (address) => trustProxy(address, 0),
  });
  const live = new LiveTail(access, { redisUrl: urls.redisUrl, ...config.live });
  live.attach(server);

  return {
    server,
    app,
    ingest: routes,
    ds,
    redis,
    queues,
    producer,
    keys,
    access,
    llmProducer,
    spanProducer,
    live,
    quotas,
    disk,
    admin,
    async close() {
      // WebSockets first: open ones would keep server.close() waiting.
      await live.close();
      if (server.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      }
      // Requests already accepted are waiting on their group commit: let them finish first.
      await producer.close();
      await llmProducer.close();
      await spanProducer.close();
      await sessionProducer.close();
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await redis.quit().catch(() => redis.disconnect());
      // Outcome counts are written before the database goes (a failure is logged: the counts are lost only then).
      await outcomes.detach(ds).catch((err) => logger.error({ err: (err as Error).message }, 'outcomes not flushed at shutdown'));
      await ds.destroy();
    },
  };
}

import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Queue } from 'bullmq';
import type { RedisClient } from '../queues/connection.ts';
import { pinoHttp } from 'pino-http';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import type { Access } from '../domain/access/index.ts';
import { AuthRateLimiter } from '../domain/accounts/rateLimit.ts';
import { logger } from '../logger.ts';
import { observeHttp } from '../metrics.ts';
import type { QueueName } from '../queues/contract.ts';
import { errorHandler, notFoundHandler } from './middleware/errors.ts';
import { guardJsonBody, refuseNulInUrl } from './middleware/text.ts';
import { authRoutes } from './routes/auth/auth.ts';
import { projectEventRoutes } from './routes/events/read.ts';
import { docsRoutes } from './routes/ops/docs.ts';
import { opsRoutes } from './routes/ops/ops.ts';
import { projectRoutes } from './routes/projects/projects.ts';
import { filterPreferenceRoutes } from './routes/filterPreferences/filterPreferences.ts';
import { logRoutes } from './routes/logs/logs.ts';
import { dataideaReadRoutes } from './routes/logs/seed3.ts';
import type { WorkSink } from '../domain/sinks.ts';
import { expressHandler, type IngestRoute } from './ingest/runner.ts';
import { routeNamed } from './ingest/routes.ts';
import { apiKeyRoutes } from './routes/apikeys/apikeys.ts';
import { invitationRoutes } from './routes/invitations/invitations.ts';
import { profileRoutes } from './routes/profile/profile.ts';
import { userRoutes } from './routes/users/users.ts';
import { dumpRoutes } from './routes/dumps/dumps.ts';
import { issueRoutes } from './routes/issues/issues.ts';
import { alertRoutes } from './routes/alerts/alerts.ts';
import { monitorRoutes } from './routes/monitors/monitors.ts';
import { llmRoutes } from './routes/llm/llm.ts';
import { scrubbingRoutes } from './routes/scrubbing/scrubbing.ts';
import { traceRoutes } from './routes/traces/traces.ts';
import { releaseRoutes } from './routes/releases/releases.ts';
import { triageRoutes } from './routes/triage/triage.ts';
import { sentryApiRoutes } from './routes/sentryApi/sentryApi.ts';
import { authTokenRoutes } from './routes/authTokens/authTokens.ts';
import { attachmentRoutes } from './routes/attachments/attachments.ts';
import { outcomeRoutes } from './routes/outcomes/outcomes.ts';
import { artifactStore } from '../storage/index.ts';
import { auditLogRoutes } from './routes/auditLog/auditLog.ts';
import { auditTrail } from './audit.ts';
import type { DiskGuard, Quotas } from '../domain/quotas/index.ts';
import { quotaRoutes } from './routes/quotas/quotas.ts';

export interface AppDeps {
  ds: DataSource;
  redis: RedisClient;
  queues: Record<QueueName, Queue>;
  access: Access;
  sink: WorkSink;
  /** The ingest table (src/api/ingest/routes.ts): Express serves its `via: 'express'` routes. */
  routes: readonly IngestRoute[];
  quotas: Quotas;
  disk: DiskGuard;
  /** The AdminJS back-office (src/admin), or none when ADMIN_ENABLED=false. */
  admin?: RequestHandler;
}

/** Everything except the hot ingest POSTs, which src/api/server.ts answers before Express. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.set('trust proxy', config.http.trustProxy);
  app.set('strict routing', false); // /api/x/ and /api/x are the same route
  app.disable('x-powered-by');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      observeHttp(req.method, route, res.statusCode, started);
    });
    next();
  });
  app.use(
    pinoHttp({
      logger,
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          ip: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
    }),
  );

  app.use(
    helmet({ contentSecurityPolicy: { directives: { 'upgrade-insecure-requests': null } }, strictTransportSecurity: config.isProduction }),
  );
  // DataIdea's CORS_ALLOWED_ORIGINS: browsers from these origins may call the API with credentials.
  app.use(cors({ origin: config.corsOrigins, credentials: true, maxAge: 600 }));

  app.use(refuseNulInUrl);
  // AdminJS before any body parser: its POSTs hang on Express 5 otherwise.
  if (deps.admin) app.use('/admin', deps.admin);
  app.use(opsRoutes(deps));
  app.use(docsRoutes(config.http.publicUrl));
  // Log ingestion (the logs dashboard's and central de erros' paths) reads its own body (the ingest runner), with the app's CORS: before the JSON parser too.
  app.post(['/api/logs', '/v1/api/logs'], expressHandler(routeNamed(deps.routes, '/api/logs/')));
  // The audit log's HTTP edge (src/api/audit.ts): every write route of its table, recorded before the answer goes out
  // (after log ingestion, which is data, not a change, and keeps its lean path).
  app.use(auditTrail(deps.ds, deps.access));
  // Crash dumps (the crash store): multipart uploads streamed to disk, so before any body parser.
  app.use(
    '/api/dumps',
    dumpRoutes({
      ds: deps.ds,
      access: deps.access,
      sink: deps.sink,
      upload: routeNamed(deps.routes, '/api/dumps/'),
      disk: { guard: deps.disk, dir: config.dumpsDir },
    }),
  );

  // gzip/deflate request bodies are inflated by express.json (inflate: true).
  app.use(express.json({ limit: config.http.jsonBodyLimit, strict: false, type: ['application/json', 'application/*+json'] }));
  app.use(guardJsonBody);

  const limiter = new AuthRateLimiter(deps.redis, { ...config.authRateLimit, keyPrefix: config.queuePrefix });
  const { ds, access } = deps;
  const auth = authRoutes({ ds, access, limiter });
  app.use('/api/auth', auth);
  app.use('/auth', auth); // central de erros' paths
  app.use('/api/user', profileRoutes(ds, access, limiter));
  app.use('/api/users', userRoutes(ds, access));
  app.use('/api/apikeys', apiKeyRoutes(access));
  app.use('/api/projects', projectEventRoutes(ds, access));
  app.use('/api/projects', projectRoutes(ds, access));
  app.use('/api/invitations', invitationRoutes(ds, access));
  // Alerts: rules, channels, firings and cron monitors per project (the cron scripts' ping is an ingest route: src/api/ingest/routes.ts).
  app.use('/api/projects', alertRoutes({ ds, access, queues: deps.queues }));
  app.use('/api/projects', monitorRoutes(ds, access));
  // Triage: releases and event attachments per project.
  app.use('/api/projects', releaseRoutes(ds, access));
  app.use('/api/projects', scrubbingRoutes(access));
  app.use('/api/projects', attachmentRoutes(ds, access, artifactStore()));
  // What was dropped and why: outcomes and inbound filters per project.
  app.use('/api/projects', outcomeRoutes(ds, access));
  // Quotas and rate limits per project and key.
  app.use('/api/projects', quotaRoutes(ds, access, deps.quotas));

  // Logs: the logs dashboard (/api/logs), central de erros (/v1/api/logs), DataIdea's lists, the logs dashboard's saved filters.
  const logs = logRoutes({ ds, access });
  app.use('/api/logs', logs);
  app.use('/v1/api/logs', logs);
  // Before DataIdea's reads: /api/llm-logs/stats/ is not an LLM log.
  app.use(llmRoutes(ds, access));
  app.use(dataideaReadRoutes(ds, access));
  app.use('/api/user-filter-preferences', filterPreferenceRoutes(ds, access));
  app.use('/api/issues', issueRoutes(ds, access));
  app.use(traceRoutes(ds, access));
  app.use('/api/issues', triageRoutes(ds, access));
  app.use('/api/auth-tokens', authTokenRoutes(ds, access));
  app.use('/api/audit-log', auditLogRoutes(ds, access));
  // sentry-cli: source map uploads and releases, with a Faultline auth token.
  app.use('/api/0', sentryApiRoutes(ds, access, artifactStore()));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

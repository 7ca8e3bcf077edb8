import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Express } from 'express';
import { config } from '../config.ts';
import { splitUrl } from './http/path.ts';
import { pantiesIngestHandler, type IngestDeps } from './routes/events/ingest.ts';
import { dataideaEventLogHandler, dataideaLlmLogHandler, type DataideaIngestDeps } from './routes/logs/dataidea.ts';
import { SENTRY_PATH, sentryIngestHandler, type SentryDeps } from './routes/sentry/ingest.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * The hot ingest POSTs skip Express: on this hardware Express costs more per request
 * than the whole PostgreSQL write path (../shared/STACK.md). Everything else goes to
 * the Express app. Paths match with or without the trailing slash.
 */
export function createDispatcher(app: Express, ingest: IngestDeps, dataidea: DataideaIngestDeps, sentry: SentryDeps): Handler {
  const sentryIngest = sentryIngestHandler(sentry);
  const fast = new Map<string, Handler>([
    ['/api/events', pantiesIngestHandler(ingest)],
    // Seed 3 (DataIdea): API-key ingest, as hot as /api/events.
    ['/api/event-log', dataideaEventLogHandler(dataidea)],
    ['/api/llm-log', dataideaLlmLogHandler(dataidea)],
  ]);
  return (req, res) => {
    if (req.method === 'POST' || req.method === 'OPTIONS') {
      const { path } = splitUrl(req.url);
      const handler = req.method === 'POST' ? fast.get(path) : undefined;
      if (handler) return handler(req, res);
      // Sentry SDKs and Crashpad: /api/<project_id>/envelope/, /store/, /minidump/ (and CORS preflights).
      const sentry = path.startsWith('/api/') ? SENTRY_PATH.exec(path) : null;
      if (sentry) return sentryIngest(req, res, Number(sentry[1]), sentry[2] as 'envelope' | 'store' | 'minidump');
    }
    return app(req, res);
  };
}

/** `onExpectContinue` answers requests sent with `Expect: 100-continue` (see src/api/expectContinue.ts); without it Node sends 100 Continue itself. */
export function createHttpServer(handler: Handler, onExpectContinue?: Handler): Server {
  // A whole request may take long (a 512 MB dump over a slow link); headers may not (slowloris).
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: config.http.requestTimeoutMs }, handler);
  server.headersTimeout = 66_000;
  if (onExpectContinue) server.on('checkContinue', onExpectContinue);
  return server;
}

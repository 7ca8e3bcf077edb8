import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZodError } from 'zod';
import { AppError } from '../domain/errors.ts';
import { logger } from '../logger.ts';
import { ingestRejected, observeHttp } from '../metrics.ts';
import { splitUrl } from './http/path.ts';
import { toAppError } from './http/send.ts';
import { matchRoute, refuse, type IngestRoute } from './ingest/runner.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * `Expect: 100-continue` (libcurl for large bodies, Crashpad): the client waits for
 * `100 Continue` before it sends the body. For an ingest route (the same table the
 * dispatcher serves) whose answer the request line and headers already decide — no or
 * bad credentials, a key without the scope, a declared Content-Length past the limit —
 * the route's own header phase runs here and its refusal goes out instead, so a refused
 * 512 MB dump is never sent; Node closes the connection after it (the body was never
 * sent, so it cannot be skipped). Everything else gets `100 Continue` and is handled
 * exactly as without the header (the header phase then runs again, as usual).
 */
export function expectContinueHandler(routes: readonly IngestRoute[], handler: Handler): Handler {
  return async (req, res) => {
    const started = process.hrtime.bigint();
    const match = matchRoute(routes, splitUrl(req.url).path);
    const route = match && match.route.methods.includes(req.method ?? '') ? match.route : null;
    const refusal = route ? await route.headers(req, match!.params).then(() => null, refusalOf) : null;
    if (!route || !refusal) {
      res.writeContinue();
      return handler(req, res);
    }
    try {
      const status = refuse(route, req, res, refusal).status;
      ingestRejected.inc({ kind: route.kind, status: String(status) });
      observeHttp(req.method ?? 'POST', route.name, status, started);
      const { path } = splitUrl(req.url); // not the query: it may hold a sentry_key
      logger.warn({ method: req.method, path, status, code: refusal.code }, 'upload refused before its body (Expect: 100-continue)');
    } catch (err) {
      logger.error({ err }, 'answering an Expect: 100-continue refusal failed');
      res.destroy();
    }
  };
}

/** Only the client's own mistakes are answered early; anything else (the database away, shedding load) takes the usual path. */
function refusalOf(err: unknown): AppError | null {
  if (err instanceof ZodError) return toAppError(err);
  return err instanceof AppError && err.status < 500 ? err : null;
}

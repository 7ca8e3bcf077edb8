import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '../../domain/errors.ts';
import { ingestRejected, observeHttp } from '../../metrics.ts';
import { splitUrl } from '../http/path.ts';
import { sendError, toAppError } from '../http/send.ts';

export type Params = Record<string, string>;

/**
 * One way into ingestion, as a small spec the runner executes. Every ingest route —
 * the seeds' JSON routes, Sentry's store/envelope/minidump, crash dump uploads, OTLP —
 * is one of these, and they all live in one table (src/api/ingest/routes.ts): the lean
 * dispatcher serves from it, and the Expect: 100-continue check runs the same `headers`
 * phase from it before the client sends a byte of its body.
 */
export interface IngestRoute<C = unknown> {
  /** The route as metrics and OpenAPI name it, e.g. `/api/{project_id}/envelope/`. */
  name: string;
  /** ingest_rejected{kind}: what the route ingests. */
  kind: string;
  methods: readonly string[];
  /** Matches the path (no query, no trailing slash); named groups become params. */
  path: RegExp;
  /**
   * What the request line and headers decide, before a byte of the body is read: who
   * the caller is and whether they may post here (the access module), whether we can
   * take it now (capacity), declared size and encoding. Throws the refusal.
   */
  headers(req: IncomingMessage, params: Params): Promise<C>;
  /**
   * Reads the body and answers. Absent for routes Express serves (dump file
   * replacement), which are in the table for their header phase only.
   */
  body?(req: IncomingMessage, res: ServerResponse, ctx: C, params: Params): Promise<void>;
  /** Answers a refusal in the protocol's own shape; default `{"error","code","details"}`. */
  refuse?(req: IncomingMessage, res: ServerResponse, err: unknown): AppError;
  /** Answers an OPTIONS preflight (browser SDKs post cross-origin). */
  preflight?(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Served by the Express app rather than the lean dispatcher: routes browsers call with
   * credentials, which need the app's CORS and security headers (the logs API), and the
   * dump routes Express serves.
   */
  via?: 'express';
  /** Bodies that may rightly take long (dumps, minidumps, envelopes with attachments): exempt from HTTP_BODY_TIMEOUT_MS. */
  longBody?: boolean;
}

export interface Match {
  route: IngestRoute;
  params: Params;
}

/** The route for a path (whatever the method: run() answers 405 for one it does not take), or null. */
export function matchRoute(routes: readonly IngestRoute[], path: string): Match | null {
  for (const route of routes) {
    const m = route.path.exec(path);
    if (m) return { route, params: { ...m.groups } };
  }
  return null;
}

/** The route as an Express handler (mounted before any body parser: the route reads its own body). */
export function expressHandler(route: IngestRoute) {
  return (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (err?: unknown) => void): void => {
    const path = splitUrl(req.originalUrl ?? req.url).path;
    run({ route, params: { ...route.path.exec(path)?.groups } }, req, res).catch(next);
  };
}

/** A refusal in the route's shape (its own, or ours). */
export function refuse(route: IngestRoute, req: IncomingMessage, res: ServerResponse, err: unknown): AppError {
  if (route.refuse) return route.refuse(req, res, err);
  sendError(res, err);
  return toAppError(err);
}

/** Runs a route: its header phase, then its body, with one place for metrics and refusals. */
export async function run(match: Match, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { route, params } = match;
  if (req.method === 'OPTIONS' && route.preflight) return route.preflight(req, res);
  const started = process.hrtime.bigint();
  let status = 0;
  try {
    if (!route.methods.includes(req.method ?? '')) {
      throw new AppError(405, 'method_not_allowed', `Use ${route.methods.join(' or ')}`, null, { Allow: route.methods.join(', ') });
    }
    const ctx = await route.headers(req, params);
    await route.body!(req, res, ctx, params);
    status = res.statusCode;
  } catch (err) {
    status = refuse(route, req, res, err).status;
    ingestRejected.inc({ kind: route.kind, status: String(status) });
  } finally {
    observeHttp(req.method ?? 'POST', route.name, status, started);
  }
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { Socket } from 'node:net';
import { config } from '../config.ts';
import { AppError } from '../domain/errors.ts';
import { splitUrl } from './http/path.ts';
import { sendError } from './http/send.ts';
import { matchRoute, run, type IngestRoute } from './ingest/runner.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * The ingest routes (src/api/ingest/routes.ts) skip Express: on this hardware Express
 * costs more per request than the whole PostgreSQL write path (../shared/STACK.md).
 * Everything else — and the ingest routes marked `via: 'express'` — goes to the Express
 * app. Paths match with or without the trailing slash.
 */
export function createDispatcher(app: Express, routes: readonly IngestRoute[]): Handler {
  const lean = routes.filter((r) => r.via !== 'express');
  return (req, res) => {
    const { path } = splitUrl(req.url);
    const match = matchRoute(routes, path);
    if (hasBody(req) && !match?.route.longBody) bodyDeadline(req, res, config.http.bodyTimeoutMs);
    if (match && lean.includes(match.route)) return run(match, req, res);
    return app(req, res);
  };
}

const hasBody = (req: IncomingMessage) => Number(req.headers['content-length']) > 0 || req.headers['transfer-encoding'] !== undefined;

/**
 * Every other request must have sent its whole body within `ms`: a client trickling a
 * body (slowloris) gets 408 and its connection closed, instead of holding it for
 * HTTP_REQUEST_TIMEOUT_MS (an hour, for uploads).
 */
function bodyDeadline(req: IncomingMessage, res: ServerResponse, ms: number): void {
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (!res.headersSent) {
      res.setHeader('Connection', 'close');
      sendError(res, new AppError(408, 'request_timeout', `The request body did not arrive within ${ms} ms`));
    }
    res.once('finish', () => req.socket.destroy());
    if (res.writableFinished || res.destroyed) req.socket.destroy();
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  req.once('end', clear);
  req.once('close', clear);
}

export interface HttpServerOptions {
  /** Answers requests sent with `Expect: 100-continue` (see src/api/expectContinue.ts); without it Node sends 100 Continue itself. */
  onExpectContinue?: Handler;
  /** Addresses of trusted proxies (TRUST_PROXY): exempt from the per-client connection cap, since every client comes through them. */
  trustedProxy?: (address: string) => boolean;
}

export function createHttpServer(handler: Handler, opts: HttpServerOptions = {}): Server {
  // A whole request may take long (a 512 MB dump over a slow link); headers may not (slowloris).
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: config.http.requestTimeoutMs }, handler);
  server.headersTimeout = 66_000;
  if (opts.onExpectContinue) server.on('checkContinue', opts.onExpectContinue);
  if (config.http.maxConnectionsPerClient > 0)
    capConnections(server, config.http.maxConnectionsPerClient, opts.trustedProxy ?? (() => false));
  return server;
}

/** One client address may hold at most `max` open connections; more are closed at once. */
function capConnections(server: Server, max: number, trusted: (address: string) => boolean): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (!address || trusted(address)) return;
    const n = (open.get(address) ?? 0) + 1;
    if (n > max) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { DataSource } from 'typeorm';
import { ZodError } from 'zod';
import type { ApiKeyResolver } from '../domain/apiKeys.ts';
import { AppError } from '../domain/errors.ts';
import { logger } from '../logger.ts';
import { ingestRejected, observeHttp } from '../metrics.ts';
import { bodyDecoder } from './http/body.ts';
import { splitUrl } from './http/path.ts';
import { sendError, toAppError } from './http/send.ts';
import { userFromRequest } from './middleware/auth.ts';
import { formDecoder, isMultipart, uploadWireLimit } from './routes/dumps/multipart.ts';
import { anonymousUploadsPossible, requestedProject, targetProject, uploadCaller } from './routes/dumps/uploader.ts';
import { authorizeKey, authorizeKeyFromHeaders, hasHeaderKey, SENTRY_LIMITS, SENTRY_PATH } from './routes/sentry/ingest.ts';
import { sendSentryError } from './routes/sentry/respond.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ExpectContinueDeps {
  ds: DataSource;
  keys: ApiKeyResolver;
  /** DUMPS_MAX_BYTES: dumps and Sentry minidumps. */
  maxDumpBytes: number;
}

interface Upload {
  /** The route label the route's own handler records in the HTTP metrics. */
  route: string;
  sentry: boolean;
  /** Throws what the route would answer, as far as the request line and headers decide it. */
  check(): Promise<void>;
}

/**
 * `Expect: 100-continue` (libcurl for large bodies, Crashpad): the client waits for
 * `100 Continue` before it sends the body. For an upload whose answer the request line
 * and headers already decide — no or bad credentials, a key without the scope, a
 * declared Content-Length past the limit — the final 4xx goes out instead, so a refused
 * 512 MB dump is never sent; Node closes the connection after it (the body was never
 * sent, so it cannot be skipped). Everything else gets `100 Continue` and is handled
 * exactly as without the header: the route checks the same things again, with the same
 * functions (uploadCaller, targetProject, the Sentry key checks, the body limits).
 */
export function expectContinueHandler(deps: ExpectContinueDeps, handler: Handler): Handler {
  return async (req, res) => {
    const started = process.hrtime.bigint();
    const upload = uploadOf(req, deps);
    const refusal = upload ? await upload.check().then(() => null, refusalOf) : null;
    if (!upload || !refusal) {
      res.writeContinue();
      return handler(req, res);
    }
    try {
      let status = refusal.status;
      if (upload.sentry) {
        status = sendSentryError(req, res, refusal).status; // CORS and X-Sentry-Error, as the route answers
        ingestRejected.inc({ kind: 'sentry', status: String(status) });
      } else {
        sendError(res, refusal);
      }
      observeHttp(req.method ?? 'POST', upload.route, status, started);
      const { path } = splitUrl(req.url); // not the query: it may hold a sentry_key
      logger.warn({ method: req.method, path, status, code: refusal.code }, 'upload refused before its body (Expect: 100-continue)');
    } catch (err) {
      logger.error({ err }, 'answering an Expect: 100-continue refusal failed');
      res.destroy();
    }
  };
}

/** Only the client's own mistakes are answered early; anything else (the database away) takes the usual path. */
function refusalOf(err: unknown): AppError | null {
  if (err instanceof ZodError) return toAppError(err);
  return err instanceof AppError && err.status < 500 ? err : null;
}

/** The upload routes, matched as src/api/server.ts and Express match them; null for everything else. */
function uploadOf(req: IncomingMessage, deps: ExpectContinueDeps): Upload | null {
  const { path, query } = splitUrl(req.url);
  if (req.method === 'POST' && path === '/api/dumps') {
    return { route: '/api/dumps/', sentry: false, check: () => checkDumpUpload(req, deps, query) };
  }
  if ((req.method === 'PUT' || req.method === 'PATCH') && path.startsWith('/api/dumps/')) {
    // Replacing a dump's file: everything under /api/dumps/ but the upload is for signed-in users first.
    return { route: '/api/dumps/:id', sentry: false, check: async () => void (await userFromRequest(deps.ds, req)) };
  }
  const sentry = req.method === 'POST' && path.startsWith('/api/') ? SENTRY_PATH.exec(path) : null;
  if (sentry) {
    const endpoint = sentry[2] as 'envelope' | 'store' | 'minidump';
    return { route: `/api/{project_id}/${endpoint}/`, sentry: true, check: () => checkSentryUpload(req, deps, Number(sentry[1]), endpoint) };
  }
  return null;
}

/** POST /api/dumps/, in the order uploadHandler checks: credentials, the form's headers, then the project (when known). */
async function checkDumpUpload(req: IncomingMessage, deps: ExpectContinueDeps, query: string): Promise<void> {
  const caller = await uploadCaller(deps.ds, deps.keys, req);
  formDecoder(req, 'file', uploadWireLimit(deps.maxDumpBytes))?.destroy();
  const requested = requestedProject({ query: parseQuery(query) }, new Map());
  if (requested !== undefined) {
    await targetProject(deps.ds, caller, requested);
  } else if (caller.kind === 'anonymous' && !(await anonymousUploadsPossible(deps.ds))) {
    // No project could take it, whatever the form names: the same 401 the upload would get.
    await targetProject(deps.ds, caller, undefined);
  }
  // Otherwise the project may still come as a form field before the file: let the body come.
}

/** POST /api/{project_id}/envelope/, /store/, /minidump/, in the order sentryIngestHandler and minidumpHandler check. */
async function checkSentryUpload(req: IncomingMessage, deps: ExpectContinueDeps, projectId: number, endpoint: 'envelope' | 'store' | 'minidump'): Promise<void> {
  if (endpoint === 'envelope') {
    // Without a key in the headers, it may be in the envelope header's DSN.
    if (hasHeaderKey(req)) await authorizeKey(deps, req, projectId);
    bodyDecoder(req, SENTRY_LIMITS.envelopeBytes, { compressedLimit: SENTRY_LIMITS.envelopeCompressedBytes })?.destroy();
  } else if (endpoint === 'store') {
    await authorizeKeyFromHeaders(deps, req, projectId);
    bodyDecoder(req, SENTRY_LIMITS.storeBytes)?.destroy();
  } else {
    await authorizeKeyFromHeaders(deps, req, projectId);
    // A raw dump may be gzip'd on the wire or be a .gz itself: refuse only what cannot fit after either.
    const wire = uploadWireLimit(deps.maxDumpBytes);
    (isMultipart(req) ? formDecoder(req, 'upload_file_minidump', wire) : bodyDecoder(req, wire))?.destroy();
  }
}

import path from 'node:path';
import { existsSync } from 'node:fs';
import AdminJSExpress from '@adminjs/express';
import { Database, Resource } from '@adminjs/typeorm';
import AdminJS, { ForbiddenError, NotFoundError, Router as AdminRouter, ValidationError } from 'adminjs';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import { config } from '../config.ts';
import { AuthRateLimiter } from '../domain/accounts/rateLimit.ts';
import { carryClient } from './audit.ts';
import { adminAuthenticate } from './auth.ts';
import { LOGO_SVG } from './branding.ts';
import type { AdminDeps } from './index.ts';
import { adminOptions } from './options.ts';
import { queueBoard } from './queues.ts';
import { dumpDownloadRoute } from './resources/dumps.ts';
import { attachmentDownloadRoute } from './resources/issues.ts';
import { COOKIE_NAME, refreshAdminUser, sameOriginOnly, sessionOptions } from './session.ts';

/**
 * AdminJS renders inline scripts and styled-components styles, so /admin gets its own
 * Content-Security-Policy in place of the API's. Nothing is loaded from third parties
 * (AdminJS's Google Fonts link is left to fail: a self-hosted server makes no outside calls).
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "frame-ancestors 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CSP);
  // The API's no-referrer would make browsers send "Origin: null" on the admin's own form posts.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store'); // pages hold tenant data; assets below set their own
  next();
}

/**
 * AdminJS's static files (its bundles, the components bundle), served before the
 * session: Express 5's sendFile refuses any path with a dot segment unless told
 * otherwise, which breaks installs under e.g. ~/.local — so allow them explicitly.
 */
function assetRoutes(): Router {
  const r = Router();
  for (const asset of AdminRouter.assets) {
    const file = path.resolve(asset.src);
    r.get(asset.path, (_req, res, next) => {
      // Not tenant data: let browsers keep them (send() never overrides a Cache-Control
      // already set, so the pages' no-store must go). Development revalidates by ETag.
      res.removeHeader('Cache-Control');
      res.sendFile(file, { dotfiles: 'allow', maxAge: config.isProduction ? '1h' : 0 }, (err) => err && next(err));
    });
  }
  r.get('/faultline-logo.svg', (_req, res) => {
    res.type('image/svg+xml').set('Cache-Control', 'public, max-age=86400').send(LOGO_SVG);
  });
  return r;
}

/**
 * AdminJS inlines its page state as `window.REDUX_STATE = <JSON>;` inside a <script>:
 * JSON.stringify leaves `</script>` in a string as it is, so a user's own first name
 * could end the script and run markup on every admin page. `<` is escaped as `\u003c`
 * in those lines (the same string to JavaScript; JSON has `<` only inside strings).
 */
function escapeInlineState(_req: Request, res: Response, next: NextFunction): void {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => {
    if (typeof body === 'string' && body.includes('window.REDUX_STATE = ')) {
      body = body.replace(
        /^(\s*window\.[A-Z_]+ = )(.*);$/gm,
        (_m, head: string, json: string) => `${head}${json.replaceAll('<', '\\u003c')};`,
      );
    }
    return send(body);
  };
  next();
}

/** AdminJS's own errors (a record outside the admin's scope, a refused action) are answers, not 500s. */
function adminErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const status = err instanceof NotFoundError ? 404 : err instanceof ForbiddenError ? 403 : err instanceof ValidationError ? 400 : null;
  if (status === null || res.headersSent) return next(err);
  const code = status === 404 ? 'not_found' : status === 403 ? 'permission_denied' : 'validation_error';
  res.status(status).json({ error: (err as Error).message.split('\n')[0], code, details: null });
}

/** Builds the back-office router for /admin (called once, by AdminMount). */
export async function buildAdmin(deps: AdminDeps): Promise<RequestHandler> {
  if (config.isProduction && !existsSync(path.join(config.admin.bundleDir, 'bundle.js'))) {
    throw new Error(
      `${path.join(config.admin.bundleDir, 'bundle.js')} is missing: run \`npm run build\` (it bundles the admin's components).`,
    );
  }
  AdminJS.registerAdapter({ Database, Resource });
  const admin = new AdminJS(adminOptions(deps));
  const options = sessionOptions(deps.redis);
  const limiter = new AuthRateLimiter(deps.redis, { ...config.authRateLimit, keyPrefix: config.queuePrefix });

  const router = Router();
  router.use(carryClient);
  router.use(securityHeaders);
  router.use(escapeInlineState);
  router.use(assetRoutes());
  router.use(session(options));
  router.use(sameOriginOnly());
  router.use(refreshAdminUser(deps.access));
  router.use('/queues', queueBoard(deps.queues));
  router.use(dumpDownloadRoute(deps.ds));
  router.use(attachmentDownloadRoute(deps.ds));
  router.use(
    AdminJSExpress.buildAuthenticatedRouter(
      admin,
      { authenticate: adminAuthenticate(deps.access, limiter), cookieName: COOKIE_NAME, cookiePassword: config.admin.sessionSecret },
      null,
      options,
    ),
  );
  router.use(adminErrors);
  // In development AdminJS bundles the components on the first request for them; in production they were bundled by `npm run build`.
  await admin.initialize();
  return router;
}

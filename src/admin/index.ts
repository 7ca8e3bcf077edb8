import type { Queue } from 'bullmq';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RedisClient } from '../queues/connection.ts';
import type { DataSource } from 'typeorm';
import { config, exportAdminJsEnv } from '../config.ts';
import type { Access } from '../domain/access/index.ts';
import { logger } from '../logger.ts';
import type { QueueName } from '../queues/contract.ts';

export interface AdminDeps {
  ds: DataSource;
  redis: RedisClient;
  queues: Record<QueueName, Queue>;
  /** Every rule the admin applies is the access module's; it keeps only synchronous wrappers (src/admin/auth.ts). */
  access: Access;
}

/**
 * When the back-office is built:
 * - `eager`: before the web process listens (production: a broken admin stops startup);
 * - `background`: right after, without delaying startup (development);
 * - `lazy`: on the first request to /admin (tests: most never open it, and importing
 *   AdminJS costs seconds).
 */
export type AdminLoad = 'eager' | 'background' | 'lazy';

/**
 * The /admin mount. AdminJS and everything it pulls in are imported dynamically, so a
 * web process pays for them only when the admin is built — never on the ingest path.
 */
export class AdminMount {
  private loading: Promise<RequestHandler> | null = null;

  constructor(private readonly deps: AdminDeps) {}

  /** Builds the admin once; a failed build is retried by the next request. */
  load(): Promise<RequestHandler> {
    exportAdminJsEnv(config);
    this.loading ??= import('./setup.ts')
      .then((m) => m.buildAdmin(this.deps))
      .catch((err: unknown) => {
        this.loading = null;
        throw err;
      });
    return this.loading;
  }

  /** Starts building without waiting; errors are logged and retried on first use. */
  preload(): void {
    this.load().catch((err: unknown) => logger.error({ err }, 'admin: build failed; retrying on the next /admin request'));
  }

  handler(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      this.load().then((admin) => admin(req, res, next), next);
    };
  }
}

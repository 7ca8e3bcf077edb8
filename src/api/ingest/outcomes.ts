import type { IncomingMessage } from 'node:http';
import { ZodError } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { routeCategory } from '../../domain/outcomes/categories.ts';
import { recordOutcome } from '../../domain/outcomes/recorder.ts';
import type { IngestRoute, Params } from './runner.ts';

/** Refusals already counted where they were made (e.g. a quota that knows the exact category): not counted again. */
const counted = new WeakSet<object>();
const countedRequests = new WeakSet<IncomingMessage>();
export const markCounted = <E>(err: E): E => {
  if (err && typeof err === 'object') counted.add(err);
  return err;
};

/** Refusals that mean "this data is dropped" (not 405, and not 5xx: a client retries those). */
function refusal(err: unknown, kind: string): { status: number; code: string } | null {
  if (err && typeof err === 'object' && counted.has(err)) return null;
  const e = err instanceof AppError ? err : err instanceof ZodError ? { status: 400, code: 'validation_error' } : null;
  // Sentry's routes answer load shedding as a 429 with X-Sentry-Rate-Limits (respond.ts): SDKs drop that envelope.
  if (e && kind === 'sentry' && e.code === 'over_capacity') return { status: 429, code: e.code };
  // Quota refusals are counted by the quotas themselves, with their exact category and quantity (api/index.ts).
  if (e && e.code === 'rate_limited') return null;
  if (!e || e.status < 400 || e.status >= 500 || e.status === 405) return null;
  return { status: e.status, code: e.code };
}

const projectOf = (params: Params, ctx: unknown): { projectId: number; keyId?: number } | null => {
  // The route's context: a resolved key, `{projectId}`, or `{key}` (OTLP).
  const held = ctx as { id?: unknown; projectId?: unknown; key?: unknown } | null | undefined;
  const c = (held && typeof held.key === 'object' && held.key ? held.key : held) as
    { id?: unknown; projectId?: unknown } | null | undefined;
  if (c && typeof c.projectId === 'number') return { projectId: c.projectId, keyId: typeof c.id === 'number' ? c.id : undefined };
  const fromPath = Number(params.project);
  return Number.isSafeInteger(fromPath) && fromPath > 0 ? { projectId: fromPath } : null;
};

/**
 * An ingest route whose refusals are outcomes: a 4xx where the project is known (the
 * path's project id for Sentry's routes, else the resolved key's) is counted as
 * `rate_limited` (429) or `invalid`, with the error code as the reason — in the header
 * phase (also at the Expect: 100-continue check) and the body phase alike.
 */
export function countRefusals<C>(route: IngestRoute<C>): IngestRoute<C> {
  // OTLP's logs receiver takes logs; its traces receiver (and the kind's default) spans.
  const category = route.kind === 'otlp' && /logs/.test(route.name) ? 'log' : routeCategory(route.kind);
  const count = (req: IncomingMessage, err: unknown, params: Params, ctx?: C) => {
    // One request, one outcome: the header phase may run twice (Expect: 100-continue, then the request).
    if (countedRequests.has(req)) return;
    const r = refusal(err, route.kind);
    const where = r && projectOf(params, ctx);
    if (!r || !where) return;
    countedRequests.add(req);
    recordOutcome({ ...where, category, outcome: r.status === 429 ? 'rate_limited' : 'invalid', reason: r.code });
    markCounted(err);
  };
  const body = route.body;
  return {
    ...route,
    headers: async (req, params) => {
      try {
        return await route.headers(req, params);
      } catch (err) {
        count(req, err, params);
        throw err;
      }
    },
    body: body
      ? async (req, res, ctx, params) => {
          try {
            await body.call(route, req, res, ctx, params);
          } catch (err) {
            count(req, err, params, ctx);
            throw err;
          }
        }
      : undefined,
  };
}

import type { ActionRequest } from 'adminjs';
import type { DataSource } from 'typeorm';
import { scopeFrom } from '../domain/access/index.ts';
import { AppError } from '../domain/errors.ts';
import { traceView } from '../domain/traces/view.ts';
import type { AdminUser } from './session.ts';

/**
 * The admin's trace page (`/admin/pages/trace?trace=<id>`): the same trace view as
 * GET /api/traces/{trace_id}/, scoped to the signed-in admin's projects. A trace that is
 * malformed, or has nothing visible to them, answers its message, never data.
 */
export function tracePage(ds: DataSource) {
  return async (request: ActionRequest, _response: unknown, context: { currentAdmin?: unknown }) => {
    const admin = context.currentAdmin as AdminUser | undefined;
    const trace = typeof request.query?.trace === 'string' ? request.query.trace : '';
    if (!admin) return { error: 'Not signed in' };
    if (!trace) return { error: 'Give a trace id' };
    try {
      return await traceView(ds, scopeFrom(admin), trace);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return { error: err.message };
      throw err;
    }
  };
}

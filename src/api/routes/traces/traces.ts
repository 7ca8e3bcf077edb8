import { Router } from 'express';
import type { DataSource } from 'typeorm';
import type { Access } from '../../../domain/access/index.ts';
import { traceView } from '../../../domain/traces/view.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { TraceParams, TraceQuery } from './schema.ts';

/** `GET /api/traces/{trace_id}/`: the trace view, project-scoped by the access module. */
export function traceRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.get('/api/traces/:trace_id', requireUser(access), async (req, res) => {
    const { trace_id } = TraceParams.parse(req.params);
    const q = TraceQuery.parse(req.query);
    const scope = await access.scope(currentUser(req), q.project);
    res.json(await traceView(ds, scope, trace_id));
  });
  return r;
}

import { Router } from 'express';
import type { DataSource } from 'typeorm';
import { isEmpty, type Access } from '../../../domain/access/index.ts';
import { listAuditLog, serializeAuditRow } from '../../../domain/audit/index.ts';
import { forbidden } from '../../../domain/errors.ts';
import { currentUser, requireUser } from '../../middleware/auth.ts';
import { pageRequest, sendPage } from '../../pagination.ts';
import { AuditLogQuery, parseActor } from './schema.ts';

/**
 * GET /api/audit-log/ — read-only: the log has no write route (other methods answer 404
 * like any path the API does not serve). Staff read everything; a project's admins and
 * owner read its entries (`view_audit`); anyone else 403. Entries without a project
 * (sign-ins, users) are staff's only.
 */
export function auditLogRoutes(ds: DataSource, access: Access): Router {
  const r = Router();
  r.get('/', requireUser(access), async (req, res) => {
    const user = currentUser(req);
    const q = AuditLogQuery.parse(req.query);
    let scope;
    if (q.project !== undefined) {
      await access.authorize(user, q.project, 'view_audit', 'Project');
      scope = { all: false as const, projectIds: [q.project] };
    } else {
      scope = await access.scopeFor(user, 'view_audit');
      if (isEmpty(scope)) throw forbidden('The audit log is for staff and project admins', 'audit_forbidden');
    }
    const page = pageRequest(q);
    const result = await listAuditLog(
      ds,
      {
        scope,
        ...parseActor(q.actor),
        action: q.action,
        targetType: q.target_type,
        targetId: q.target_id,
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
      },
      page,
    );
    sendPage(req, res, page, result, serializeAuditRow);
  });
  return r;
}

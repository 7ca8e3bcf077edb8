import type { NextFunction, Request, Response } from 'express';
import type { ActionContext, ActionRequest, ActionResponse, After, Before, ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { diff, record, type AuditActor } from '../domain/audit/index.ts';
import { logger } from '../logger.ts';
import type { AdminUser } from './session.ts';

/** AdminJS's own actions that only read; every other action (built-in or custom) may change something. */
const READ_ACTIONS = new Set(['list', 'show', 'search']);
const BUILT_IN_WRITES = ['new', 'edit', 'delete', 'bulkDelete'];

type Params = Record<string, unknown>;
type Audited = ActionContext & { auditBefore?: { record: Params | null; records: Array<{ id: string; params: Params }> } };
/** What AdminJS copies from the Express request into its ActionRequest (own properties only). */
type Carried = ActionRequest & { auditClient?: { ip: string | null; userAgent: string | null } };

/**
 * Express's view of the client (`req.ip` honours TRUST_PROXY) as an own property, which
 * @adminjs/express copies into the ActionRequest the hooks below receive.
 */
export function carryClient(req: Request, _res: Response, next: NextFunction): void {
  (req as unknown as Carried).auditClient = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
  next();
}

export const adminActor = (
  admin: Pick<AdminUser, 'id' | 'email'>,
  client?: { ip: string | null; userAgent: string | null },
): AuditActor => ({
  type: 'user',
  id: admin.id,
  label: admin.email,
  ip: client?.ip ?? null,
  userAgent: client?.userAgent ?? null,
});

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const projectOf = (resourceId: string, id: string | null, params: Params | null): number | null => {
  if (resourceId === 'Project') return id ? Number(id) : null;
  const p = Number(params?.projectId);
  return Number.isSafeInteger(p) && p > 0 ? p : null;
};
const failed = (response: ActionResponse) =>
  response?.notice?.type === 'error' || Object.keys((response?.record as { errors?: object } | undefined)?.errors ?? {}).length > 0;

/**
 * The admin's central audit hook: every action of every resource that is not a read gets
 * a `before` hook (the record(s) as they were) and an `after` hook appending one entry per
 * record changed — `admin.<Resource>.<action>`, with before/after of the record's fields
 * (redacted by the domain module). Only POSTs change anything (GETs of record actions
 * answer the confirmation page), so only POSTs are recorded; a refused action (an error
 * notice or field errors) is not. New resources are covered without a line of their own.
 */
export function withAuditHooks(ds: DataSource, resources: ResourceWithOptions[]): ResourceWithOptions[] {
  for (const r of resources) {
    const resourceId = r.resource.id();
    r.options.actions ??= {};
    const actions = r.options.actions as Record<
      string,
      { before?: Before | Before[]; after?: After<ActionResponse> | After<ActionResponse>[] }
    >;
    for (const name of new Set([...BUILT_IN_WRITES, ...Object.keys(actions)])) {
      if (READ_ACTIONS.has(name)) continue;
      const action = (actions[name] ??= {});
      const snap: Before = async (request, context) => {
        if (request.method === 'post') {
          (context as Audited).auditBefore = {
            record: context.record ? { ...context.record.params } : null,
            records: (context.records ?? []).map((rec) => ({ id: String(rec.id()), params: { ...rec.params } })),
          };
        }
        return request;
      };
      const write: After<ActionResponse> = async (response, request, context) => {
        if (request.method !== 'post' || failed(response)) return response;
        const admin = context.currentAdmin as AdminUser | undefined;
        if (!admin) return response;
        const actor = adminActor(admin, (request as Carried).auditClient);
        const before = (context as Audited).auditBefore;
        const action = `admin.${resourceId}.${name}`;
        const deletes = name === 'delete' || name === 'bulkDelete';
        try {
          if (before?.records.length) {
            // Bulk actions (resolve, archive, delete…): each record as it is now, to say what changed.
            const now = deletes
              ? []
              : await context.resource.findMany(
                  before.records.map((r) => r.id),
                  context,
                );
            const afterOf = new Map(now.map((r) => [String(r.id()), r.params as Params]));
            for (const rec of before.records) {
              const after = afterOf.get(rec.id) ?? null;
              await record(ds, actor, {
                action,
                targetType: resourceId,
                targetId: rec.id,
                projectId: projectOf(resourceId, rec.id, rec.params),
                changes: diff(rec.params, after),
              });
            }
          } else {
            const id = context.record ? String(context.record.id()) : response.record?.id ? String(response.record.id) : null;
            // Custom record actions answer the record as it was loaded: read it again for the "after".
            const reread = !deletes && id && context.record ? await context.resource.findOne(id, context) : null;
            const after = deletes ? null : (reread?.params ?? (response.record?.params as Params | undefined) ?? null);
            await record(ds, actor, {
              action,
              targetType: resourceId,
              targetId: id,
              projectId: projectOf(resourceId, id, after ?? before?.record ?? null),
              changes: diff(before?.record ?? null, after),
            });
          }
        } catch (err) {
          logger.error({ err, action }, 'audit entry not written');
        }
        return response;
      };
      action.before = [snap, ...asArray(action.before)];
      action.after = [...asArray(action.after), write];
    }
  }
  return resources;
}

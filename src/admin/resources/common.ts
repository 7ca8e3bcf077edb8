import { ValidationError, type ActionContext, type ActionRequest, type ActionResponse, type BaseRecord } from 'adminjs';
import { AppError } from '../../domain/errors.ts';
import type { ProjectAction } from '../../domain/access/index.ts';
import { mayIn } from '../auth.ts';
import type { AdminUser } from '../session.ts';

export const NAV = {
  accounts: { name: 'Accounts', icon: 'Users' },
  projects: { name: 'Projects', icon: 'Folder' },
  data: { name: 'Data', icon: 'Database' },
  alerts: { name: 'Alerts', icon: 'Bell' },
};

export const actorOf = (context?: ActionContext): AdminUser => {
  const admin = context?.currentAdmin as AdminUser | undefined;
  if (!admin) throw new ValidationError({}, { message: 'Not signed in' });
  return admin;
};

type Check = { currentAdmin?: unknown; record?: BaseRecord };

/** isAccessible for record actions: the admin's role in the record's project allows `action`. */
export const inProject =
  (action: ProjectAction, column = 'projectId') =>
  ({ currentAdmin, record }: Check): boolean =>
    Boolean(record) && mayIn(currentAdmin as AdminUser, record!.param(column), action);

export const staffOnly = ({ currentAdmin }: Check): boolean => Boolean((currentAdmin as AdminUser | undefined)?.isStaff);

/**
 * A domain error (AppError: 400/403/404/409) as a form error AdminJS shows next to
 * `field` and in its notice, instead of a 500.
 */
export async function domainCall<T>(fn: () => Promise<T>, field = 'name'): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw new ValidationError({ [field]: { message: err.message, type: err.code } }, { message: err.message });
    throw err;
  }
}

/** Hides a property from lists, forms and filters (and keeps it off the wire for lists). */
export const hidden = { isVisible: false };
export const showOnly = { isVisible: { list: false, filter: false, show: true, edit: false } };
export const readOnly = { isVisible: { list: true, filter: true, show: true, edit: false } };

type WithSession = { session?: { flash?: { resource: string; id: string; secret: string } } };

/**
 * Secrets shown exactly once (a new API key, a new project's first key): `create`
 * returns the secret as `__secret`; the `new` action's after hook moves it into the
 * server-side session and sends the browser to the record's page, whose `show` after
 * hook takes it out again and displays it. A reload shows it no more.
 */
export function secretOnce(resourceId: string) {
  return {
    afterNew: async (response: ActionResponse, request: ActionRequest) => {
      const params = response.record?.params as Record<string, unknown> | undefined;
      const secret = params?.__secret;
      if (params && typeof secret === 'string') {
        delete params.__secret;
        const id = String(response.record.id);
        (request as unknown as WithSession).session!.flash = { resource: resourceId, id, secret };
        response.redirectUrl = `/admin/resources/${resourceId}/records/${encodeURIComponent(id)}/show`;
      }
      return response;
    },
    afterShow: async (response: ActionResponse, request: ActionRequest) => {
      const session = (request as unknown as WithSession).session;
      const flash = session?.flash;
      if (flash && response.record && flash.resource === resourceId && flash.id === String(response.record.id)) {
        response.record.params.secret = flash.secret;
        delete session!.flash;
      }
      return response;
    },
  };
}

/** The secret property: only ever filled in by secretOnce's show hook. */
export const secretProperty = {
  type: 'string' as const,
  isVisible: { list: false, filter: false, show: true, edit: false },
};

/**
 * A record or bulk action that changes data: the Confirm component asks `custom.question` and
 * POSTs (so the same-origin check applies); a GET only answers the record(s), so
 * following a link can never change anything.
 */
export function confirmed<C extends ActionContext>(kind: 'record' | 'bulk', change: (context: C) => Promise<string>) {
  return async (request: ActionRequest, _response: unknown, context: C) => {
    const resourceId = context.resource.id();
    const records = () => (context.records ?? []).map((r) => r.toJSON(context.currentAdmin));
    if (request.method !== 'post')
      return kind === 'bulk' ? { records: records() } : { record: context.record!.toJSON(context.currentAdmin) };
    const notice = { message: await change(context), type: 'success' as const };
    if (kind === 'bulk') return { records: records(), notice, redirectUrl: context.h.resourceUrl({ resourceId }) };
    const recordId = String(context.record!.id());
    return {
      record: context.record!.toJSON(context.currentAdmin),
      notice,
      redirectUrl: context.h.recordActionUrl({ resourceId, recordId, actionName: 'show' }),
    };
  };
}

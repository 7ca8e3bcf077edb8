import { ForbiddenError, type ParamsType, type ResourceWithOptions } from 'adminjs';
import { AuditEntry } from '../../entities/AuditEntry.ts';
import { mayAnywhere } from '../auth.ts';
import { Components } from '../components.ts';
import { projectScope, ScopedResource } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { NAV } from './common.ts';

/** The log is append-only: nothing is created, changed or deleted from the admin (and the table's trigger refuses it anyway). */
class AuditLogResource extends ScopedResource {
  constructor() {
    super(AuditEntry, { id: 'AuditLog', scope: projectScope('r.projectId', 'view_audit'), exact: ['actorType', 'targetType', 'targetId'] });
  }

  override async update(): Promise<ParamsType> {
    throw new ForbiddenError('The audit log cannot be changed');
  }

  override async delete(): Promise<void> {
    throw new ForbiddenError('The audit log cannot be changed');
  }
}

const off = { isAccessible: false, isVisible: false };
const mayRead = ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser | undefined, 'view_audit');

/** "Audit log": list, show and filter — staff see every entry, project admins and owners their projects' (view_audit). */
export function auditLogResource(): ResourceWithOptions {
  return {
    resource: new AuditLogResource(),
    options: {
      navigation: NAV.accounts,
      sort: { sortBy: 'time', direction: 'desc' },
      listProperties: ['time', 'actorLabel', 'action', 'targetType', 'targetId', 'projectId', 'ip'],
      filterProperties: ['time', 'actorType', 'actorId', 'action', 'targetType', 'targetId', 'projectId', 'ip'],
      showProperties: [
        'id',
        'time',
        'actorType',
        'actorId',
        'actorLabel',
        'action',
        'targetType',
        'targetId',
        'projectId',
        'changes',
        'ip',
        'userAgent',
      ],
      properties: {
        action: { isTitle: true },
        changes: { isVisible: { list: false, filter: false, show: true, edit: false }, components: { show: Components.JsonBlock } },
      },
      actions: {
        list: { isAccessible: mayRead },
        show: { isAccessible: mayRead },
        search: { isAccessible: mayRead },
        new: off,
        edit: off,
        delete: off,
        bulkDelete: off,
      },
    },
  };
}

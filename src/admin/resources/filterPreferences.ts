import type { ActionContext, ParamsType, ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { updatePreference } from '../../domain/logs/preferences.ts';
import { UserFilterPreference } from '../../entities/UserFilterPreference.ts';
import { Components } from '../components.ts';
import { ScopedResource, type Condition } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { domainCall, NAV, readOnly, showOnly } from './common.ts';

/** Saved log filters (the logs dashboard) are private: one's own, or every one for staff. */
const ownScope = (admin: AdminUser | undefined): Condition =>
  !admin ? { sql: 'false' } : admin.isStaff ? null : { sql: 'r.userId = :owner', params: { owner: admin.id } };
const ownerOrStaff = ({ currentAdmin, record }: { currentAdmin?: unknown; record?: { param(k: string): unknown } }) => {
  const admin = currentAdmin as AdminUser | undefined;
  return Boolean(admin && record && (admin.isStaff || record.param('userId') === admin.id));
};

class PreferenceResource extends ScopedResource {
  constructor(private readonly ds: DataSource) {
    super(UserFilterPreference, { scope: ownScope });
  }

  /** Through the preferences service: setting a default unsets the user's previous one. */
  override async update(id: string, params: Record<string, unknown>, _context?: ActionContext): Promise<ParamsType> {
    const pref = await this.ds.getRepository(UserFilterPreference).findOneByOrFail({ id: Number(id) });
    const isDefault = params.isDefault === undefined ? undefined : params.isDefault === true || params.isDefault === 'true';
    return (await domainCall(() =>
      updatePreference(this.ds, pref.userId, pref.id, {
        name: params.name === undefined ? undefined : String(params.name),
        is_default: isDefault,
      }),
    )) as unknown as ParamsType;
  }
}

export function filterPreferencesResource(ds: DataSource): ResourceWithOptions {
  return {
    resource: new PreferenceResource(ds),
    options: {
      navigation: { name: 'Accounts', icon: 'Users' } satisfies typeof NAV.accounts,
      sort: { sortBy: 'updatedAt', direction: 'desc' },
      listProperties: ['id', 'name', 'userId', 'isDefault', 'updatedAt'],
      filterProperties: ['userId', 'name', 'isDefault'],
      showProperties: ['id', 'name', 'userId', 'isDefault', 'filters', 'createdAt', 'updatedAt'],
      editProperties: ['name', 'isDefault'],
      properties: {
        name: { isTitle: true },
        filters: { ...showOnly, components: { show: Components.JsonBlock } },
        userId: readOnly,
        createdAt: readOnly,
      },
      actions: {
        new: { isAccessible: false },
        edit: { isAccessible: ownerOrStaff },
        delete: { isAccessible: ownerOrStaff },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}

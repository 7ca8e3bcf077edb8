import { ValidationError, type ActionContext, type ActionRequest, type ParamsType, type ResourceWithOptions } from 'adminjs';
import type { Access } from '../../domain/access/index.ts';
import { createKey, DEFAULT_KEY_SCOPES, keyFor, revokeKey, updateKey } from '../../domain/projects/keys.ts';
import { API_KEY_SCOPES, ApiKey, type ApiKeyScope } from '../../entities/ApiKey.ts';
import { mayAnywhere } from '../auth.ts';
import { projectScope, ScopedResource } from '../resource.ts';
import type { AdminUser } from '../session.ts';
import { Components } from '../components.ts';
import { actorOf, confirmed, domainCall, hidden, inProject, NAV, readOnly, secretOnce, secretProperty } from './common.ts';

function scopes(params: Record<string, unknown>): ApiKeyScope[] {
  const picked = Object.entries(params)
    .filter(([k]) => k === 'scopes' || k.startsWith('scopes.'))
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .filter((v): v is ApiKeyScope => API_KEY_SCOPES.includes(v as ApiKeyScope));
  return picked.length ? [...new Set(picked)] : DEFAULT_KEY_SCOPES;
}

class ApiKeyResource extends ScopedResource {
  constructor(private readonly access: Access) {
    super(ApiKey, { scope: projectScope('r.projectId', 'manage_keys'), exact: ['prefix'] });
  }

  /** The secret exists only in this answer; the database keeps its SHA-256. */
  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const projectId = Number(params.projectId);
    if (!Number.isSafeInteger(projectId) || projectId <= 0) throw new ValidationError({ projectId: { message: 'pick a project' } });
    const { key, secret } = await domainCall(
      () => createKey(this.access, actorOf(context), projectId, { name: String(params.name ?? '').slice(0, 100), scopes: scopes(params) }),
      'projectId',
    );
    return { ...key, keyHash: undefined, __secret: secret } as unknown as ParamsType;
  }

  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const key = await domainCall(() => keyFor(this.access, actorOf(context), Number(id)));
    const updated = await updateKey(this.access, key, {
      name: params.name === undefined ? undefined : String(params.name),
      scopes: scopes(params),
    });
    return updated as unknown as ParamsType;
  }
}

export function apiKeysResource(access: Access): ResourceWithOptions {
  const secret = secretOnce('ApiKey');
  const resource = new ApiKeyResource(access);
  return {
    resource,
    options: {
      navigation: NAV.projects,
      sort: { sortBy: 'createdAt', direction: 'desc' },
      listProperties: ['id', 'name', 'prefix', 'projectId', 'scopes', 'lastUsedAt', 'revokedAt', 'createdAt'],
      filterProperties: ['projectId', 'name', 'prefix', 'createdAt'],
      editProperties: ['projectId', 'name', 'scopes'],
      showProperties: ['secret', 'id', 'name', 'prefix', 'projectId', 'scopes', 'createdById', 'createdAt', 'lastUsedAt', 'revokedAt'],
      properties: {
        name: { isTitle: true },
        prefix: { ...readOnly, description: 'The start of the key, to recognise it' },
        keyHash: hidden,
        scopes: { availableValues: API_KEY_SCOPES.map((s) => ({ value: s, label: s })) },
        secret: { ...secretProperty, components: { show: Components.SecretOnce } },
        createdById: readOnly,
        lastUsedAt: readOnly,
        revokedAt: readOnly,
      },
      actions: {
        new: {
          isAccessible: ({ currentAdmin }: { currentAdmin?: unknown }) => mayAnywhere(currentAdmin as AdminUser, 'manage_keys'),
          after: secret.afterNew,
        },
        show: { after: secret.afterShow },
        edit: {
          isAccessible: (c: Parameters<ReturnType<typeof inProject>>[0]) => inProject('manage_keys')(c) && !c.record?.param('revokedAt'),
          before: async (request: ActionRequest) => {
            if (request.payload) delete request.payload.projectId; // a key never moves to another project
            return request;
          },
        },
        revoke: {
          actionType: 'record',
          icon: 'Slash',
          variant: 'danger',
          component: Components.Confirm,
          custom: { question: 'Revoke this key? Clients using it are refused within seconds; this cannot be undone.' },
          isAccessible: (c: Parameters<ReturnType<typeof inProject>>[0]) => inProject('manage_keys')(c) && !c.record?.param('revokedAt'),
          handler: confirmed('record', async (context) => {
            const key = await keyFor(access, actorOf(context), Number(context.record!.id()));
            await revokeKey(access, key); // stops it at once here, within API_KEY_CACHE_TTL_MS elsewhere
            return `Key ${key.prefix}… revoked`;
          }),
        },
        // Revoking keeps the row (who made it, when it was last used); keys are never deleted here.
        delete: { isAccessible: false },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}

import type { ActionContext, ActionRequest, ParamsType, ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import type { Access } from '../../domain/access/index.ts';
import { createProject, deleteProject, transferProject, updateProject } from '../../domain/projects/projects.ts';
import { Project } from '../../entities/Project.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import { actorOf, domainCall, hidden, inProject, NAV, readOnly, secretOnce, secretProperty, showOnly } from './common.ts';

const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

class ProjectResource extends ScopedResource {
  constructor(
    private readonly ds: DataSource,
    private readonly access: Access,
  ) {
    super(Project, { scope: projectScope('r.id'), exact: ['slug'], editable: ['name', 'description', 'retentionDays', 'ownerId'] });
  }

  /** The creator owns the new project; its first ingest key is shown once. */
  override async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const me = actorOf(context);
    const { project, secret } = await domainCall(() =>
      this.ds.transaction((em) =>
        createProject(em, { ownerId: me.id, name: str(params.name) ?? 'Project', description: str(params.description) }),
      ),
    );
    return { ...project, __secret: secret } as unknown as ParamsType;
  }

  /** Name, description and retention need the admin role; a new owner needs the owner (transfer). */
  override async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const me = actorOf(context);
    const projectId = Number(id);
    await domainCall(() => this.access.authorize(me, projectId, 'edit_project'));
    const owner = params.ownerId === undefined || params.ownerId === null || params.ownerId === '' ? undefined : Number(params.ownerId);
    return (await domainCall(
      () =>
        this.ds.transaction(async (em) => {
          const current = await em.findOneByOrFail(Project, { id: projectId });
          if (owner !== undefined && owner !== current.ownerId) {
            await this.access.authorize(me, projectId, 'transfer_project');
            await transferProject(em, projectId, owner);
          }
          const days = params.retentionDays === undefined ? undefined : Number(params.retentionDays);
          return updateProject(em, projectId, { name: str(params.name), description: str(params.description), retentionDays: days });
        }),
      owner !== undefined ? 'ownerId' : 'name',
    )) as unknown as ParamsType;
  }

  override async delete(id: string, context?: ActionContext): Promise<void> {
    await domainCall(async () => {
      await this.access.authorize(actorOf(context), Number(id), 'delete_project');
      await this.ds.transaction((em) => deleteProject(em, Number(id)));
    });
  }
}

export function projectsResource(ds: DataSource, access: Access): ResourceWithOptions {
  const secret = secretOnce('Project');
  return {
    resource: new ProjectResource(ds, access),
    options: {
      navigation: NAV.projects,
      sort: { sortBy: 'createdAt', direction: 'desc' },
      listProperties: ['id', 'name', 'slug', 'ownerId', 'isPersonal', 'retentionDays', 'createdAt'],
      filterProperties: ['name', 'slug', 'ownerId', 'isPersonal', 'createdAt'],
      editProperties: ['name', 'description', 'retentionDays', 'ownerId'],
      showProperties: [
        'secret',
        'id',
        'name',
        'slug',
        'description',
        'ownerId',
        'isPersonal',
        'retentionDays',
        'settings',
        'createdAt',
        'updatedAt',
      ],
      properties: {
        name: { isTitle: true, isRequired: true },
        description: { type: 'textarea' },
        slug: readOnly,
        isPersonal: readOnly,
        ownerId: {
          description: 'Transferring needs the owner (or staff); the new owner must already be a member, and you stay on as an admin.',
        },
        retentionDays: { description: 'Days of data kept' },
        settings: { ...showOnly, components: { show: Components.JsonBlock } },
        secret: { ...secretProperty, components: { show: Components.SecretOnce }, description: "The project's first ingest key" },
        createdAt: readOnly,
        updatedAt: hidden,
      },
      actions: {
        new: { after: secret.afterNew },
        show: { after: secret.afterShow },
        edit: {
          isAccessible: inProject('edit_project', 'id'),
          // Only the owner (or staff) may pick a new owner: others do not get the field.
          before: async (request: ActionRequest, context: ActionContext) => {
            if (
              request.method === 'post' &&
              !inProject('transfer_project', 'id')({ currentAdmin: context.currentAdmin, record: context.record })
            ) {
              delete request.payload?.ownerId;
            }
            return request;
          },
        },
        delete: { isAccessible: inProject('delete_project', 'id'), guard: 'Delete this project and ALL its events, logs, keys and dumps?' },
        bulkDelete: { isAccessible: false },
      },
    },
  };
}

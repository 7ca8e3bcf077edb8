import type { ActionContext, ActionRequest, ResourceWithOptions } from 'adminjs';
import type { DataSource } from 'typeorm';
import { getRelease } from '../../domain/releases/manage.ts';
import { Release } from '../../entities/Release.ts';
import { Components } from '../components.ts';
import { ScopedResource, projectScope } from '../resource.ts';
import { domainCall, hidden, inProject, NAV } from './common.ts';

/** Releases, read-only here (events, sessions, sentry-cli and the API create them); each shows its health. */
export function releasesResource(ds: DataSource): ResourceWithOptions {
  return {
    resource: new ScopedResource(Release, { scope: projectScope('r.projectId'), exact: ['version', 'package'] }),
    options: {
      navigation: NAV.data,
      sort: { sortBy: 'createdAt', direction: 'desc' },
      listProperties: ['version', 'projectId', 'firstSeen', 'lastSeen', 'dateReleased', 'createdAt'],
      filterProperties: ['projectId', 'version', 'package', 'firstSeen', 'lastSeen', 'createdAt'],
      showProperties: ['version', 'projectId', 'package', 'firstSeen', 'lastSeen', 'dateReleased', 'createdAt', 'createdById'],
      properties: {
        version: { isTitle: true },
        semverMajor: hidden,
        semverMinor: hidden,
        semverPatch: hidden,
        semverPre: hidden,
      },
      actions: {
        new: { isAccessible: false },
        edit: { isAccessible: false },
        delete: { isAccessible: false },
        bulkDelete: { isAccessible: false },
        show: { component: Components.ReleaseHealth },
        // What the health panel reads: the same summary as GET /api/projects/{id}/releases/{version}/.
        health: {
          actionType: 'record',
          isVisible: false,
          component: false,
          isAccessible: inProject('view'),
          handler: async (_request: ActionRequest, _response: unknown, context: ActionContext) => {
            const r = context.record!;
            const summary = await domainCall(() => getRelease(ds, Number(r.param('projectId')), String(r.param('version'))));
            return { record: r.toJSON(context.currentAdmin), summary };
          },
        },
      },
    },
  };
}

import type { AdminJSOptions } from 'adminjs';
import { signAccessToken } from '../domain/accounts/tokens.ts';
import { branding, translations } from './branding.ts';
import { componentLoader, Components } from './components.ts';
import { dashboardData } from './dashboard.ts';
import type { AdminDeps } from './index.ts';
import { apiKeysResource } from './resources/apiKeys.ts';
import { crashDumpsResource } from './resources/dumps.ts';
import { eventsResource, logsResource } from './resources/events.ts';
import { filterPreferencesResource } from './resources/filterPreferences.ts';
import { issuesResource } from './resources/issues.ts';
import { releasesResource } from './resources/releases.ts';
import { llmLogsResource } from './resources/llmLogs.ts';
import { membersResource } from './resources/members.ts';
import { projectsResource } from './resources/projects.ts';
import { usersResource } from './resources/users.ts';
import type { AdminUser } from './session.ts';

export const ROOT_PATH = '/admin';

/** Everything AdminJS shows: resources (each with its access rules), the dashboard, pages and branding. */
export function adminOptions(deps: AdminDeps): AdminJSOptions {
  const { ds, queues, keys } = deps;
  return {
    rootPath: ROOT_PATH,
    loginPath: `${ROOT_PATH}/login`,
    logoutPath: `${ROOT_PATH}/logout`,
    componentLoader,
    branding,
    locale: { language: 'en', availableLanguages: ['en'], translations: { en: translations } },
    settings: { defaultPerPage: 20 },
    resources: [
      eventsResource(ds),
      logsResource(ds),
      issuesResource(ds),
      releasesResource(ds),
      llmLogsResource(),
      crashDumpsResource(deps),
      projectsResource(ds),
      membersResource(ds),
      apiKeysResource(ds, keys),
      usersResource(ds),
      filterPreferencesResource(ds),
    ],
    dashboard: {
      component: Components.Dashboard,
      handler: async (_request, _response, context) => dashboardData(ds, queues, context.currentAdmin as unknown as AdminUser),
    },
    pages: {
      liveTail: {
        icon: 'Activity',
        component: Components.LiveTail,
        // The live tail's WebSocket authenticates like the API, with an access token: one is
        // minted for the signed-in user on each visit (and again when it expires).
        handler: async (_request, _response, context) => ({
          token: await signAccessToken((context.currentAdmin as unknown as AdminUser).id),
          path: '/ws/logs/',
        }),
      },
      queues: {
        icon: 'Layers',
        component: Components.Queues,
        handler: async (_request, _response, context) => ({ isStaff: Boolean((context.currentAdmin as unknown as AdminUser | undefined)?.isStaff), url: '/admin/queues' }),
      },
    },
  };
}

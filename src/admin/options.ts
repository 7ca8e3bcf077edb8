import type { AdminJSOptions } from 'adminjs';
import { accessTokenFor } from '../domain/accounts/sessions.ts';
import { branding, translations } from './branding.ts';
import { componentLoader, Components } from './components.ts';
import { dashboardData } from './dashboard.ts';
import type { AdminDeps } from './index.ts';
import { alertChannelsResource, alertDeliveriesResource, alertFiringsResource, alertRulesResource } from './resources/alerts.ts';
import { monitorCheckInsResource, monitorsResource } from './resources/monitors.ts';
import { apiKeysResource } from './resources/apiKeys.ts';
import { crashDumpsResource } from './resources/dumps.ts';
import { eventsResource, logsResource } from './resources/events.ts';
import { filterPreferencesResource } from './resources/filterPreferences.ts';
import { issuesResource } from './resources/issues.ts';
import { releasesResource } from './resources/releases.ts';
import { llmLogsResource } from './resources/llmLogs.ts';
import { llmPricesResource } from './resources/llmPrices.ts';
import { quotaOverridesResource } from './resources/quotas.ts';
import { scrubbingRulesResource } from './resources/scrubbingRules.ts';
import { membersResource } from './resources/members.ts';
import { projectsResource } from './resources/projects.ts';
import { usersResource } from './resources/users.ts';
import { inboundFiltersResource, outcomesResource } from './resources/outcomes.ts';
import { auditLogResource } from './resources/auditLog.ts';
import { withAuditHooks } from './audit.ts';
import type { AdminUser } from './session.ts';
import { tracePage } from './trace.ts';

export const ROOT_PATH = '/admin';

/** Everything AdminJS shows: resources (each with its access rules), the dashboard, pages and branding. */
export function adminOptions(deps: AdminDeps): AdminJSOptions {
  const { ds, queues, access } = deps;
  return {
    rootPath: ROOT_PATH,
    loginPath: `${ROOT_PATH}/login`,
    logoutPath: `${ROOT_PATH}/logout`,
    componentLoader,
    branding,
    locale: { language: 'en', availableLanguages: ['en'], translations: { en: translations } },
    settings: { defaultPerPage: 20 },
    // Every write action of every resource is recorded in the audit log (src/admin/audit.ts).
    resources: withAuditHooks(ds, [
      eventsResource(ds),
      logsResource(ds),
      issuesResource(ds, access),
      releasesResource(ds),
      llmLogsResource(),
      llmPricesResource(ds, access),
      scrubbingRulesResource(access),
      crashDumpsResource(deps),
      projectsResource(ds, access),
      membersResource(ds, access),
      apiKeysResource(access),
      quotaOverridesResource(ds),
      usersResource(ds, access),
      filterPreferencesResource(ds),
      alertRulesResource(ds, access),
      alertChannelsResource(ds, access, queues),
      alertFiringsResource(ds),
      alertDeliveriesResource(),
      monitorsResource(ds, access),
      monitorCheckInsResource(),
      // What was dropped and why (read-only), and the inbound filters that drop events.
      outcomesResource(),
      inboundFiltersResource(ds),
      auditLogResource(),
    ]),
    dashboard: {
      component: Components.Dashboard,
      handler: async (_request, _response, context) => dashboardData(ds, queues, context.currentAdmin as unknown as AdminUser, deps.redis),
    },
    pages: {
      liveTail: {
        icon: 'Activity',
        component: Components.LiveTail,
        // The live tail's WebSocket authenticates like the API, with an access token: one is
        // minted for the signed-in user on each visit (and again when it expires).
        handler: async (_request, _response, context) => ({
          token: await accessTokenFor(ds, (context.currentAdmin as unknown as AdminUser).id),
          path: '/ws/logs/',
        }),
      },
      // The waterfall of one trace; events, logs and LLM calls link here (?trace=<id>).
      trace: { icon: 'GitBranch', component: Components.Trace, handler: tracePage(ds) },
      queues: {
        icon: 'Layers',
        component: Components.Queues,
        handler: async (_request, _response, context) => ({
          isStaff: Boolean((context.currentAdmin as unknown as AdminUser | undefined)?.isStaff),
          url: '/admin/queues',
        }),
      },
    },
  };
}

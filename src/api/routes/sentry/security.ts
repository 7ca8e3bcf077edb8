import type { IncomingMessage } from 'node:http';
import type { Counter } from 'prom-client';
import { type ResolvedKey } from '../../../domain/access/index.ts';
import { badRequest } from '../../../domain/errors.ts';
import type { EventRecord } from '../../../domain/events/record.ts';
import { sentryEventItem } from '../../../domain/ingest/formats/sentry/items.ts';
import { parseSecurityBody, type ReportContext } from '../../../domain/ingest/formats/sentry/security.ts';
import { ingestedItems } from '../../../metrics.ts';
import { splitUrl } from '../../http/path.ts';
import { bodyDecoder, parseJson, readBody } from '../../http/body.ts';
import type { IngestRoute } from '../../ingest/runner.ts';
import { corsHeaders, preflight, sendSentryError } from './respond.ts';
import type { SentryDeps } from './ingest.ts';

/** Browsers send one report (or a Reporting API batch) at a time; Sentry takes up to 1 MB per event. */
const SECURITY_BODY_BYTES = 1 << 20;

const projectOf = (params: Record<string, string>) => Number(params.project);

/** `?sentry_environment=` and `?sentry_release=` (the policy header's report URL carries them), and the browser's user agent. */
function contextOf(req: IncomingMessage): ReportContext {
  const query = new URLSearchParams(splitUrl(req.url).query ?? '');
  const ua = req.headers['user-agent'];
  return {
    userAgent: typeof ua === 'string' ? ua : undefined,
    environment: query.get('sentry_environment')?.slice(0, 100) || undefined,
    release: query.get('sentry_release')?.slice(0, 250) || undefined,
  };
}

/**
 * POST /api/{project_id}/security/?sentry_key=… — what browsers post by themselves: CSP
 * `report-uri` and `report-to` reports, HPKP, Expect-CT, Expect-Staple (see
 * src/domain/ingest/formats/sentry/security.ts). The key is in the query, as in the report URL Sentry
 * gives; browsers post cross-origin with a type that is not CORS-safelisted, so the
 * preflight is answered too. 201 with no body, as Sentry answers.
 */
export function securityRoute(deps: SentryDeps, sentryItems: Counter<'type' | 'outcome'>): IngestRoute<ResolvedKey> {
  return {
    refuse: sendSentryError,
    preflight,
    name: '/api/{project_id}/security/',
    kind: 'sentry',
    methods: ['POST'],
    path: /^\/api\/(?<project>\d{1,10})\/security$/,
    headers: async (req, params) => {
      const key = await deps.access.apiKey(req, { scope: 'ingest', projectId: projectOf(params), sentry: true });
      deps.producer.assertCapacity();
      bodyDecoder(req, SECURITY_BODY_BYTES)?.destroy();
      return key;
    },
    body: async (req, res, _key, params) => {
      const projectId = projectOf(params);
      const receivedAt = new Date().toISOString();
      const body = await readBody(req, SECURITY_BODY_BYTES);
      const parsed = parseSecurityBody(parseJson(body), contextOf(req));
      if (!parsed.events.length && !parsed.logs.length) {
        // outcome: security/invalid(not a report)
        sentryItems.inc({ type: 'security', outcome: 'invalid' });
        throw badRequest(
          'Not a browser security report: expected {"csp-report": {...}}, {"expect-ct-report": {...}}, {"expect-staple-report": {...}}, an HPKP report or a Reporting API list',
          { field: '(body)' },
          'invalid_report',
        );
      }
      // outcome: security/invalid(one report of a batch that is no report)
      if (parsed.invalid) sentryItems.inc({ type: 'security', outcome: 'invalid' }, parsed.invalid);
      const records: EventRecord[] = parsed.logs.map((l) => ({ ...l, project_id: projectId, received_at: receivedAt }));
      if (records.length) sentryItems.inc({ type: 'browser_report', outcome: 'accepted' }, records.length);
      for (const event of parsed.events) {
        const result = sentryEventItem(event, projectId, receivedAt);
        if (result.kind === 'error') {
          records.push(result.record);
          sentryItems.inc({ type: 'security', outcome: 'accepted' });
        } else if (result.kind === 'filtered') {
          // outcome: security/filtered(<reason>) — Sentry's CSP block list, extension and about:/data:/blob: sources.
          sentryItems.inc({ type: 'security', outcome: `filtered_${result.reason}` });
        }
      }
      if (records.length) await deps.producer.enqueue(records, body.length);
      for (const r of records) ingestedItems.inc({ kind: r.kind });
      res.writeHead(201, { ...corsHeaders(req), 'Content-Length': '0' });
      res.end();
    },
  };
}

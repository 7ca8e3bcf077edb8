import { z } from 'zod';
import { errorResponses, jsonResponse, registry } from '../../openapi.ts';

const ProjectParam = z.object({ project_id: z.number().int().positive() });
const SentryAuth = z.object({
  'X-Sentry-Auth': z
    .string()
    .optional()
    .meta({ description: 'Sentry sentry_key=<api_key>, sentry_version=7, … (or ?sentry_key=, or the DSN in the envelope header)' }),
  'Content-Encoding': z.enum(['gzip', 'deflate', 'br', 'zstd']).optional(),
});
const SentryQuery = z.object({
  sentry_key: z.string().optional(),
  sentry_version: z.string().optional(),
  sentry_client: z.string().optional(),
});
const Id = z.object({ id: z.string().meta({ example: '9ec79c33ec9942ab8353589fcb2e04dc' }) }).meta({ id: 'SentryEventId' });

const common = {
  tags: ['sentry'],
  description:
    'For official Sentry SDKs with the DSN `http://<api_key>@<host>/<project_id>`. The key must belong to the project and have the `ingest` scope. ' +
    'When shedding load the answer is 429 with Retry-After and X-Sentry-Rate-Limits; errors carry X-Sentry-Error. CORS is open to any origin (the key is the credential).',
};

registry.registerPath({
  ...common,
  method: 'post',
  path: '/api/{project_id}/envelope/',
  summary: 'Sentry envelope: events (errors, messages), structured logs; other item types are counted and skipped',
  description:
    common.description +
    ' With no key in X-Sentry-Auth or ?sentry_key=, only the envelope header (the first line, at most 64 KB) is read before the key in its DSN is checked.' +
    ' At most 20 MB on the wire and 100 MB decoded (413 as soon as either is passed).',
  request: {
    params: ProjectParam,
    query: SentryQuery,
    headers: SentryAuth,
    body: { required: true, content: { 'application/x-sentry-envelope': { schema: z.string().meta({ format: 'binary' }) } } },
  },
  responses: {
    200: jsonResponse(z.union([Id, z.object({})]), '`{"id"}` of the event in the envelope, or `{}` when it held none'),
    ...errorResponses(400, 401, 403, 413, 415, 429, 503, 507),
  },
});
registry.registerPath({
  ...common,
  method: 'post',
  path: '/api/{project_id}/store/',
  summary: 'Sentry legacy store endpoint: one JSON event, of any SDK generation',
  description:
    common.description +
    ' Legacy shapes (`sentry.interfaces.*`, exception as a list, message as an object, top-level stacktrace, base64+zlib bodies of raven-node/raven-python) are normalized; ' +
    'a `type: "transaction"` becomes spans, never an error event; another non-error type is counted and dropped. Fields of the wrong type are dropped and listed in the event\'s `data.errors`; ' +
    'a body that is not a JSON object is 400 `invalid_event`.',
  request: {
    params: ProjectParam,
    query: SentryQuery,
    headers: SentryAuth,
    body: { required: true, content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
  },
  responses: { 200: jsonResponse(Id, 'Queued'), ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
});
registry.registerPath({
  ...common,
  method: 'post',
  path: '/api/{project_id}/minidump/',
  summary:
    'Crashpad/Breakpad: a minidump as multipart `upload_file_minidump` (other fields become extra; `sentry` JSON or `sentry[...]` fields set event fields), or as the raw body',
  description:
    common.description +
    ' The file must start with MDMP (gzip-compressed files and bodies are accepted). It is stored as a crash dump (label: the event id) and linked to an error event. Answers the event id as a plain-text UUID.',
  request: {
    params: ProjectParam,
    query: SentryQuery,
    headers: SentryAuth,
    body: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: z.object({ upload_file_minidump: z.string().meta({ format: 'binary' }), sentry: z.string().optional() }).loose(),
        },
        'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) },
      },
    },
  },
  responses: {
    200: {
      description: 'The event id',
      content: { 'text/plain': { schema: z.string().meta({ example: '9ec79c33-ec99-42ab-8353-589fcb2e04dc' }) } },
    },
    ...errorResponses(400, 401, 403, 413, 415, 429, 503, 507),
  },
});
registry.registerPath({
  ...common,
  method: 'post',
  path: '/api/{project_id}/security/',
  summary: 'Browser security reports: CSP (report-uri and report-to), HPKP, Expect-CT, Expect-Staple',
  description:
    'What browsers post by themselves to the report URL of a policy header: `Content-Security-Policy: …; report-uri https://<host>/api/<project_id>/security/?sentry_key=<api_key>` ' +
    '(and `report-to` with `Reporting-Endpoints`). The key is in the query; `sentry_environment` and `sentry_release` set the environment and release. ' +
    'CSP violations become error events of type `csp` (exception type `CSP`, grouped by directive and blocked host); browser-extension and other known noise is filtered (counted, not stored). ' +
    'Other Reporting API reports (deprecation, intervention, crash, network-error, …) become logs from source `browser-reports`. CORS is open to any origin, preflight included.',
  request: {
    params: ProjectParam,
    query: SentryQuery.extend({ sentry_environment: z.string().optional(), sentry_release: z.string().optional() }),
    body: {
      required: true,
      content: {
        'application/csp-report': { schema: z.object({ 'csp-report': z.record(z.string(), z.unknown()) }) },
        'application/reports+json': {
          schema: z.array(
            z.object({
              type: z.string(),
              url: z.string().optional(),
              age: z.number().optional(),
              user_agent: z.string().optional(),
              body: z.record(z.string(), z.unknown()),
            }),
          ),
        },
        'application/expect-ct-report+json': { schema: z.object({ 'expect-ct-report': z.record(z.string(), z.unknown()) }) },
        'application/json': {
          schema: z.record(z.string(), z.unknown()).meta({ description: 'HPKP or Expect-Staple report, or any of the above' }),
        },
      },
    },
  },
  responses: { 201: { description: 'Taken (stored, or filtered as noise)' }, ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
});

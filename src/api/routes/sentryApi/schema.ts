import { z } from 'zod';
import { errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';

/**
 * The part of Sentry's web API that `sentry-cli` calls for source maps and releases,
 * under /api/0/. Faultline has no organizations: `{org}` may be anything (it is echoed
 * back); projects are named by slug or id.
 */
export const authTokenAuth = registry.registerComponent('securitySchemes', 'authToken', {
  type: 'http',
  scheme: 'bearer',
  description: 'A Faultline auth token (flt_…) from POST /api/auth-tokens/, as sentry-cli sends SENTRY_AUTH_TOKEN',
});

const sha1 = z.string().regex(/^[0-9a-fA-F]{40}$/, 'a SHA-1 (40 hex characters)');
export const OrgParam = z.object({ org: z.string().min(1).max(100) });
export const AssembleBody = z
  .object({
    checksum: sha1,
    chunks: z.array(sha1).max(10_000),
    projects: z.array(z.string().min(1).max(100)).min(1).max(100),
    version: z.string().min(1).max(250).optional(),
    dist: z.string().min(1).max(64).optional(),
  })
  .meta({ id: 'AssembleArtifactBundleRequest' });
export const AssembleOut = z
  .object({
    state: z.enum(['ok', 'not_found', 'error', 'created', 'assembling']),
    missingChunks: z.array(z.string()),
    detail: z.string().nullable(),
  })
  .meta({ id: 'AssembleArtifactBundleResponse' });
export const ChunkOptionsOut = z
  .object({
    url: z.string(),
    chunkSize: z.number().int(),
    chunksPerRequest: z.number().int(),
    maxFileSize: z.number().int(),
    maxRequestSize: z.number().int(),
    concurrency: z.number().int(),
    hashAlgorithm: z.literal('sha1'),
    compression: z.array(z.string()),
    accept: z.array(z.string()),
  })
  .meta({ id: 'ChunkUploadOptions' });
const version = z
  .string()
  .trim()
  .min(1)
  .max(250)
  .refine((v) => !/[\n\r\t/\\]/.test(v), 'no slashes, tabs or newlines');
export const NewReleaseBody = z
  .object({
    version,
    projects: z.array(z.string().min(1).max(100)).min(1).max(100),
    url: z.string().max(2000).optional(),
    dateStarted: z.iso.datetime({ offset: true }).optional(),
    dateReleased: z.iso.datetime({ offset: true }).optional(),
  })
  .meta({ id: 'SentryNewRelease' });
export const ReleaseVersionParam = OrgParam.extend({ version: z.string().min(1).max(250) });
export const UpdateReleaseBody = z
  .object({
    dateReleased: z.iso.datetime({ offset: true }).nullable().optional(),
    projects: z.array(z.string().min(1).max(100)).optional(),
    url: z.string().max(2000).optional(),
  })
  .meta({ id: 'SentryUpdateRelease' });
export const SentryReleaseOut = z
  .object({
    version: z.string(),
    url: z.string().nullable(),
    dateCreated: z.string(),
    dateReleased: z.string().nullable(),
    lastEvent: z.string().nullable(),
    newGroups: z.number().int(),
    projects: z.array(z.object({ slug: z.string(), name: z.string() })),
  })
  .meta({ id: 'SentryRelease' });

const security = [{ [authTokenAuth.name]: [] }];
const tags = ['sentry-cli'];
registry.registerPath({
  method: 'get',
  path: '/api/0/organizations/{org}/chunk-upload/',
  tags,
  summary: 'Chunk upload options (sentry-cli asks first)',
  security,
  request: { params: OrgParam },
  responses: { 200: jsonResponse(ChunkOptionsOut, 'Options'), ...errorResponses(401) },
});
registry.registerPath({
  method: 'post',
  path: '/api/0/organizations/{org}/chunk-upload/',
  tags,
  summary: 'Upload chunks: multipart parts `file_gzip` (gzip) or `file`, each named by the SHA-1 of its bytes',
  security,
  request: {
    params: OrgParam,
    body: {
      required: true,
      content: { 'multipart/form-data': { schema: z.object({ file_gzip: z.string().meta({ format: 'binary' }) }) } },
    },
  },
  responses: { 200: jsonResponse(z.object({}), 'Stored'), ...errorResponses(400, 401, 413, 415) },
});
registry.registerPath({
  method: 'post',
  path: '/api/0/organizations/{org}/artifactbundle/assemble/',
  tags,
  summary: 'Assemble an artifact bundle from its chunks; answers the chunks still missing, or ok once unpacked',
  security,
  request: { params: OrgParam, body: jsonBody(AssembleBody) },
  responses: { 200: jsonResponse(AssembleOut, 'State'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'post',
  path: '/api/0/organizations/{org}/releases/',
  tags,
  summary: 'Create a release in projects (`sentry-cli releases new`); an existing one is answered as it is',
  security,
  request: { params: OrgParam, body: jsonBody(NewReleaseBody) },
  responses: {
    201: jsonResponse(SentryReleaseOut, 'Created'),
    208: jsonResponse(SentryReleaseOut, 'Existed'),
    ...errorResponses(400, 401, 404),
  },
});
registry.registerPath({
  method: 'put',
  path: '/api/0/organizations/{org}/releases/{version}/',
  tags,
  summary: 'Update a release (`sentry-cli releases finalize` sets dateReleased)',
  security,
  request: { params: ReleaseVersionParam, body: jsonBody(UpdateReleaseBody) },
  responses: { 200: jsonResponse(SentryReleaseOut, 'Updated'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/0/organizations/{org}/releases/{version}/',
  tags,
  summary: 'One release (`sentry-cli releases info`)',
  security,
  request: { params: ReleaseVersionParam },
  responses: { 200: jsonResponse(SentryReleaseOut, 'Release'), ...errorResponses(401, 404) },
});

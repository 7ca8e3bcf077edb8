import { ScrubbedOut } from '../../../domain/scrubbing/rules.ts';
import { z } from 'zod';
import { config } from '../../../config.ts';
import { apiKeyAuth, bearerAuth, errorResponses, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';

const projectId = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);
// NUL is refused (PostgreSQL cannot store it): a label is looked up and shown, not ingested data.
const storable = (s: z.ZodString) => s.refine((v) => !v.includes('\u0000'), 'contains a NUL character, which cannot be stored');
const label = storable(z.string().max(255));
const boolParam = z.enum(['true', 'false', 'True', 'False', '1', '0']).transform((v) => v === 'true' || v === 'True' || v === '1');
const dateParam = (what: string) =>
  z
    .string()
    .max(64)
    .optional()
    .meta({ description: `${what}: ISO 8601 date-time, or a date (YYYY-MM-DD)` });

/** The text fields of an upload form; unknown fields are ignored (crash reporters send plenty). */
export const UploadFields = z.object({
  label: label.optional(),
  project: projectId.optional(),
});

/** `?project=` on the upload URL: lets an anonymous client (or anyone) name the project before the file streams. */
export const UploadQuery = z.object({
  project: projectId.optional().meta({ description: 'Target project (alternative to the `project` form field)' }),
});

export const DumpIdParam = z.object({ id: z.string().max(64) });
export const LabelParam = z.object({ label: storable(z.string().min(1).max(255)) });

export const DumpFilterQuery = z.object({
  project: projectId.optional().meta({ description: 'Only this project (default: every project you can see)' }),
  label: label.optional().meta({ description: 'Exactly this label' }),
  archived: boolParam.optional(),
  date_from: dateParam('Uploaded at or after'),
  date_to: dateParam('Uploaded at or before (a plain date covers that whole day)'),
});
export const DumpListQuery = PageQuery.extend(DumpFilterQuery.shape);
export const DumpByLabelQuery = PageQuery.extend(DumpFilterQuery.omit({ label: true }).shape);

/** PATCH/PUT as JSON or urlencoded: the label only (a new file needs multipart). */
export const LabelBody = z.object({ label: label.nullable().optional() }).strict();

export const DumpOut = z
  .object({
    id: z.uuid(),
    original_name: z.string().meta({ description: 'The file name as uploaded; display only' }),
    stored_name: z.uuid().meta({ description: 'The crash store: the uuid the bytes are stored under (same as id)' }),
    time: z.string().meta({ description: 'Upload time' }),
    label: z.string().nullable(),
    archived: z.boolean(),
    archived_at: z.string().nullable(),
    size: z.number().int().meta({ description: 'Bytes as stored (a gzip-compressed upload is stored decompressed)' }),
    sha256: z.string(),
    content_type: z.string(),
    project: z.number().int(),
    uploader: z.object({
      kind: z.enum(['user', 'api_key', 'machine', 'anonymous']),
      user: z.number().int().nullable(),
      api_key: z.number().int().nullable(),
    }),
    updated_at: z.string(),
    info: z.record(z.string(), z.unknown()).meta({
      description:
        'format (minidump|opaque), status (pending|processed|error), checksum (verified|mismatch|missing), ' +
        'minidump {os, os_version, os_build, cpu_arch, cpu_count, thread_count, crashed_thread, exception_code, exception_name, ' +
        'crash_reason, crash_address, module_count, main_module, timestamp, version, streams}, minidump_error, uploaded_gzip',
    }),
    scrubbed: ScrubbedOut,
  })
  .meta({
    id: 'CrashDump',
    example: {
      id: '3f2b8c1e-7a0d-4c3e-9b1f-2d4e6a8c0b1d',
      original_name: 'app-2024-01-01.dmp',
      stored_name: '3f2b8c1e-7a0d-4c3e-9b1f-2d4e6a8c0b1d',
      time: '2024-01-01T12:00:00.000Z',
      label: 'nightly',
      archived: false,
      archived_at: null,
      size: 482133,
      sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      content_type: 'application/x-minidump',
      project: 1,
      uploader: { kind: 'machine', user: null, api_key: 3 },
      updated_at: '2024-01-01T12:00:00.000Z',
      info: { format: 'minidump', status: 'pending' },
    },
  });

const binary = z.string().meta({ format: 'binary' });
const UploadForm = z.object({
  file: binary.meta({
    description: 'The dump. May itself be gzip-compressed (recognised by its magic bytes) and is then stored decompressed.',
  }),
  label: label.optional(),
  project: projectId
    .optional()
    .meta({ description: 'User tokens: target project (default: your personal project). Anonymous uploads: required, before `file`.' }),
});
const ReplaceForm = z.object({ file: binary, label: label.optional() });
const PatchForm = z.object({ file: binary.optional(), label: label.optional() });
const user = [{ [bearerAuth.name]: [] }];
const params = { params: z.object({ id: z.uuid() }) };
const mb = Math.round(config.dumps.maxBytes / 2 ** 20);

registry.registerPath({
  method: 'post',
  path: '/api/dumps/',
  tags: ['dumps'],
  summary: 'Upload a crash dump (the crash store)',
  description:
    'multipart/form-data with a `file` part and an optional `label`. Authenticate with a machine token from ' +
    '/api/auth/client-token/, an API key with the `dumps:upload` scope, or a user token (member role or above in the ' +
    'target project). Without credentials the upload is refused unless the project allows anonymous dumps ' +
    '(settings.allowAnonymousDumps) and is named by `?project=` or a `project` field sent before the file. ' +
    `The body may be Content-Encoding gzip/deflate/br/zstd. At most ${mb} MB (DUMPS_MAX_BYTES) after decompression. ` +
    "201 only once the bytes are fsync'd and the row committed; 503 with Retry-After when the disk cannot take it.",
  security: [{ [bearerAuth.name]: [] }, { [apiKeyAuth.name]: [] }, {}],
  request: { query: UploadQuery, body: { required: true, content: { 'multipart/form-data': { schema: UploadForm } } } },
  responses: { 201: jsonResponse(DumpOut, 'Stored'), ...errorResponses(400, 401, 403, 404, 413, 415, 429, 503, 507) },
});
registry.registerPath({
  method: 'get',
  path: '/api/dumps/',
  tags: ['dumps'],
  summary: 'Dumps of the projects you can see, newest first',
  security: user,
  request: { query: DumpListQuery },
  responses: { 200: jsonResponse(paginated(DumpOut, 'CrashDumpList'), 'Dumps'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/dumps/by-label/{label}/',
  tags: ['dumps'],
  summary: 'Dumps with exactly this label (the crash store), newest first',
  security: user,
  request: { params: LabelParam, query: DumpByLabelQuery },
  responses: { 200: jsonResponse(paginated(DumpOut, 'CrashDumpList'), 'Dumps'), ...errorResponses(400, 401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/dumps/{id}/',
  tags: ['dumps'],
  summary: "One dump's metadata",
  security: user,
  request: params,
  responses: { 200: jsonResponse(DumpOut, 'Dump'), ...errorResponses(401, 403, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/dumps/{id}/download/',
  tags: ['dumps'],
  summary: 'The original bytes',
  description:
    'Content-Disposition carries original_name (RFC 6266/5987 filename* for non-ASCII names). Supports a single ' +
    '`Range: bytes=…` (206; several ranges answer 200 with the whole file), If-Range, ETag (the sha256) and HEAD. ' +
    'Archived dumps are decompressed on the fly; a range starts decompressing at the 4 MiB block holding its first byte.',
  security: user,
  request: params,
  responses: {
    200: { description: 'The dump', content: { 'application/octet-stream': { schema: binary } } },
    206: { description: 'The requested range', content: { 'application/octet-stream': { schema: binary } } },
    416: { description: 'Range not satisfiable (Content-Range: bytes */size)' },
    ...errorResponses(401, 403, 404),
  },
});
registry.registerPath({
  method: 'put',
  path: '/api/dumps/{id}/',
  tags: ['dumps'],
  summary: 'Replace the file (and the label, if sent); member role or above',
  security: user,
  request: { ...params, body: { required: true, content: { 'multipart/form-data': { schema: ReplaceForm } } } },
  responses: { 200: jsonResponse(DumpOut, 'Replaced'), ...errorResponses(400, 401, 403, 404, 413, 415, 429, 503, 507) },
});
registry.registerPath({
  method: 'patch',
  path: '/api/dumps/{id}/',
  tags: ['dumps'],
  summary: 'Change the label and/or the file; member role or above',
  description: 'multipart/form-data (file and/or label), or JSON / urlencoded `{"label": …}` (null clears it).',
  security: user,
  request: {
    ...params,
    body: { required: true, content: { 'multipart/form-data': { schema: PatchForm }, 'application/json': { schema: LabelBody } } },
  },
  responses: { 200: jsonResponse(DumpOut, 'Updated'), ...errorResponses(400, 401, 403, 404, 413, 415, 429, 503, 507) },
});
registry.registerPath({
  method: 'delete',
  path: '/api/dumps/{id}/',
  tags: ['dumps'],
  summary: 'Delete a dump and its bytes; member role or above',
  security: user,
  request: params,
  responses: { 204: { description: 'Deleted' }, ...errorResponses(401, 403, 404, 503) },
});

import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';
import { PageQuery } from '../../pagination.ts';
import { ProjectIdParam } from '../projects/schema.ts';

export const ReleaseParam = ProjectIdParam.extend({ version: z.string().min(1).max(250) });
export const ReleaseListQuery = PageQuery.omit({ cursor: true });
export const ReleaseBody = z
  .object({
    version: z
      .string()
      .trim()
      .min(1)
      .max(250)
      .refine((v) => !/[\n\r\t/\\]/.test(v) && v !== '.' && v !== '..', 'no slashes, tabs or newlines'),
    date_released: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .meta({ id: 'CreateReleaseRequest', example: { version: 'shop@2.1.0', date_released: '2026-01-01T12:00:00Z' } });

const Health = z.object({
  sessions: z.number().int(),
  sessions_errored: z.number().int(),
  sessions_crashed: z.number().int(),
  sessions_abnormal: z.number().int(),
  crash_free_sessions: z.number().nullable().meta({ description: 'Percent of sessions that did not crash; null without sessions' }),
  users: z.number().int(),
  users_crashed: z.number().int(),
  crash_free_users: z.number().nullable(),
});
export const ReleaseOut = z
  .object({
    version: z.string(),
    package: z.string().nullable(),
    first_seen: z.string().nullable().meta({ description: 'First event of the release' }),
    last_seen: z.string().nullable().meta({ description: 'Latest event (accurate to about a minute)' }),
    date_released: z.string().nullable(),
    created_at: z.string(),
    new_issues: z.number().int().meta({ description: 'Issues first seen in this release' }),
    health: Health.extend({ environments: z.record(z.string(), Health) }),
  })
  .meta({ id: 'Release' });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/releases/',
  tags: ['releases'],
  summary: "The project's releases, newest first (semver order where versions are semver), with new issues and crash-free rates",
  security,
  request: { params: ProjectIdParam, query: ReleaseListQuery },
  responses: { 200: jsonResponse(paginated(ReleaseOut, 'ReleaseList'), 'Releases'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'post',
  path: '/api/projects/{id}/releases/',
  tags: ['releases'],
  summary: 'Create a release ahead of its events (member and up); 200 if it existed',
  security,
  request: { params: ProjectIdParam, body: jsonBody(ReleaseBody) },
  responses: {
    201: jsonResponse(ReleaseOut, 'Created'),
    200: jsonResponse(ReleaseOut, 'Already there'),
    ...errorResponses(400, 401, 403, 404),
  },
});
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/releases/{version}/',
  tags: ['releases'],
  summary: 'One release',
  security,
  request: { params: ReleaseParam },
  responses: { 200: jsonResponse(ReleaseOut, 'Release'), ...errorResponses(401, 404) },
});

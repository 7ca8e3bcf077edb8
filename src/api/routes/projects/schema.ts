import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, paginated, registry } from '../../openapi.ts';

export const ProjectIdParam = z.object({ id: z.coerce.number().int().positive().max(2 ** 31 - 1) });

export const CreateProjectBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(10_000).optional(),
    slug: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes')
      .max(80)
      .optional(),
  })
  .meta({ id: 'CreateProjectRequest', example: { name: 'My App', description: 'Production web app' } });

export const ProjectOut = z
  .object({
    id: z.number().int(),
    name: z.string(),
    slug: z.string(),
    description: z.string(),
    owner: z.number().int(),
    is_personal: z.boolean(),
    retention_days: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
    role: z.enum(['owner', 'admin', 'member', 'viewer', 'staff']).optional(),
  })
  .meta({ id: 'Project' });

const CreatedProjectOut = ProjectOut.extend({
  api_key: z.string().meta({ description: 'The project\'s first ingest key. Shown once; only its hash is stored.' }),
}).meta({ id: 'CreatedProject' });

const security = [{ [bearerAuth.name]: [] }];

registry.registerPath({
  method: 'get',
  path: '/api/projects/',
  tags: ['projects'],
  summary: 'Projects the caller owns or belongs to (staff: all)',
  security,
  responses: { 200: jsonResponse(paginated(ProjectOut, 'ProjectList'), 'Projects'), ...errorResponses(401) },
});
registry.registerPath({
  method: 'post',
  path: '/api/projects/',
  tags: ['projects'],
  summary: 'Create a project; answers its first API key once, as api_key',
  security,
  request: { body: jsonBody(CreateProjectBody) },
  responses: { 201: jsonResponse(CreatedProjectOut, 'Created'), ...errorResponses(400, 401) },
});
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/',
  tags: ['projects'],
  summary: 'One project',
  security,
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(ProjectOut, 'Project'), ...errorResponses(401, 404) },
});

import { z } from 'zod';
import { bearerAuth, errorResponses, jsonResponse, registry } from '../../openapi.ts';
import { ProjectEventParam } from '../events/schema.ts';

export const AttachmentParam = ProjectEventParam.extend({ attachment_id: z.string().min(1).max(64) });
export const AttachmentOut = z
  .object({
    id: z.string(),
    event_id: z.string(),
    name: z.string(),
    content_type: z.string(),
    attachment_type: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    created_at: z.string(),
  })
  .meta({ id: 'EventAttachment' });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/events/{event_id}/attachments/',
  tags: ['events'],
  summary: "An event's attachments (Sentry scope.addAttachment)",
  security,
  request: { params: ProjectEventParam },
  responses: { 200: jsonResponse(z.object({ results: z.array(AttachmentOut) }), 'Attachments'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/events/{event_id}/attachments/{attachment_id}/',
  tags: ['events'],
  summary: 'Download one attachment (Content-Disposition: attachment)',
  security,
  request: { params: AttachmentParam },
  responses: {
    200: { description: 'The bytes', content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } } },
    ...errorResponses(401, 404),
  },
});

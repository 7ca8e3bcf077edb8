import { z } from 'zod';
import { jsonResponse, registry } from '../../openapi.ts';

const Ready = z
  .object({ status: z.enum(['ok', 'unavailable']), checks: z.object({ postgres: z.string(), redis: z.string() }) })
  .meta({ id: 'Readiness' });

registry.registerPath({
  method: 'get',
  path: '/healthz',
  tags: ['ops'],
  summary: 'Liveness: the process answers',
  responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }), 'Up') },
});
registry.registerPath({
  method: 'get',
  path: '/readyz',
  tags: ['ops'],
  summary: 'Readiness: PostgreSQL and Redis both answer',
  responses: { 200: jsonResponse(Ready, 'Ready'), 503: jsonResponse(Ready, 'A dependency is down') },
});
registry.registerPath({
  method: 'get',
  path: '/metrics',
  tags: ['ops'],
  summary: 'Prometheus metrics: HTTP, ingest, queue depth and processed jobs, ingest lag, process',
  responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } },
});
registry.registerPath({
  method: 'get',
  path: '/api/openapi.json',
  tags: ['ops'],
  summary: 'This document',
  responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
});
registry.registerPath({
  method: 'get',
  path: '/api/docs/',
  tags: ['ops'],
  summary: 'Swagger UI for this document',
  responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } },
});

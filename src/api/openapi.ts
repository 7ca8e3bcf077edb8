import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

/**
 * Every route group's schema.ts registers its paths here with the same zod schemas the
 * handlers validate with, so the document cannot drift from the code.
 */
export const registry = new OpenAPIRegistry();

export const bearerAuth = registry.registerComponent('securitySchemes', 'bearerAuth', {
  type: 'http',
  scheme: 'bearer',
  bearerFormat: 'JWT',
  description: 'A user access token from POST /api/auth/login/',
});
export const apiKeyAuth = registry.registerComponent('securitySchemes', 'apiKeyAuth', {
  type: 'http',
  scheme: 'bearer',
  description: 'A project API key (flk_…) sent as `Authorization: Bearer <api_key>`',
});

export const ErrorSchema = z.object({ error: z.string(), code: z.string(), details: z.unknown() }).meta({
  id: 'Error',
  example: { error: 'Authentication required', code: 'authentication_required', details: 'Valid JWT token must be provided' },
});

export const errorResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [c, { description: ERROR_TEXT[c] ?? 'Error', content: { 'application/json': { schema: ErrorSchema } } }]),
  );

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input (malformed JSON, validation errors)',
  401: 'Missing or invalid credentials',
  403: 'Authenticated but not allowed',
  404: 'Not found, or not visible to the caller',
  409: 'Conflict',
  413: 'Body, item or batch too large',
  415: 'Unsupported Content-Encoding',
  429: 'Over a quota or rate limit (`rate_limited`, details: retry_after, category, scope, reason), or shedding load; see Retry-After',
  507: 'Not enough free disk space for uploads (`insufficient_storage`); see Retry-After',
  503: 'Queue or storage unavailable, or shedding load; see Retry-After',
};

export const jsonBody = (schema: z.ZodType, description?: string) => ({
  required: true,
  description,
  content: { 'application/json': { schema } },
});
export const jsonResponse = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

export function paginated<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      count: z.number().int(),
      next: z.string().nullable(),
      previous: z.string().nullable(),
      results: z.array(item),
    })
    .meta({ id });
}

export function buildOpenApiDocument(serverUrl?: string) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Faultline API',
      version: '0.1.0',
      description:
        'Error events, application logs, LLM call logs and crash dumps. Paths work with and without the trailing slash. ' +
        'Errors are `{"error","code","details"}`; lists are `{"count","next","previous","results"}`.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : undefined,
  });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { config } from '../../config.ts';

/**
 * CORS for ingest routes browsers post to with a key in a header — OpenTelemetry's web
 * exporters (`@opentelemetry/exporter-trace-otlp-http` in a page) and Langfuse's SDKs.
 * Those requests carry `Authorization` or `x-faultline-key` and a JSON or protobuf body,
 * so the browser asks first (an OPTIONS preflight). OTLP_CORS_ORIGINS says who may ask:
 * `*` by default, since the key in the request is the credential (no cookies are read),
 * or a list of origins, each answered by name.
 */
export function ingestCorsHeaders(req: IncomingMessage, origins: '*' | readonly string[] = config.otlpCorsOrigins): Record<string, string> {
  const origin = typeof req.headers.origin === 'string' ? req.headers.origin : null;
  if (origins === '*') return { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Retry-After' };
  if (origin && origins.includes(origin)) {
    return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' };
  }
  return { Vary: 'Origin' };
}

export const INGEST_CORS_HEADERS =
  'Content-Type, Content-Encoding, Authorization, X-Faultline-Key, X-Langfuse-Sdk-Name, X-Langfuse-Sdk-Version, X-Langfuse-Sdk-Variant, X-Langfuse-Sdk-Integration, X-Langfuse-Public-Key';

/** The preflight's answer: 204, POST from the allowed origins with the headers exporters send. */
export function ingestPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  origins: '*' | readonly string[] = config.otlpCorsOrigins,
): void {
  res.writeHead(204, {
    ...ingestCorsHeaders(req, origins),
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': INGEST_CORS_HEADERS,
    'Access-Control-Max-Age': '86400',
  });
  res.end();
}

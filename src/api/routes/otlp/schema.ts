import { z } from 'zod';
import { apiKeyAuth, registry } from '../../openapi.ts';

/** OTLP/JSON, loosely: the authoritative schema is the protobuf in proto/ (OTLP v1.11.0). */
const KeyValue = z.object({
  key: z.string(),
  value: z.record(z.string(), z.unknown()).meta({ description: 'AnyValue: {"stringValue": …} | {"intValue": …} | {"boolValue": …} | …' }),
});
const Resource = z.object({ attributes: z.array(KeyValue).optional() });
const Scope = z.object({ name: z.string().optional(), version: z.string().optional() });

const LogRecord = z.object({
  timeUnixNano: z.string().optional(),
  observedTimeUnixNano: z.string().optional(),
  severityNumber: z.number().int().min(0).max(24).optional(),
  severityText: z.string().optional(),
  body: z.record(z.string(), z.unknown()).optional(),
  attributes: z.array(KeyValue).optional(),
  traceId: z.string().optional().meta({ description: '32 hex characters' }),
  spanId: z.string().optional().meta({ description: '16 hex characters' }),
  eventName: z.string().optional(),
});
export const ExportLogsRequest = z
  .object({
    resourceLogs: z.array(
      z.object({
        resource: Resource.optional(),
        scopeLogs: z.array(z.object({ scope: Scope.optional(), logRecords: z.array(LogRecord) })),
      }),
    ),
  })
  .meta({
    id: 'OtlpExportLogsServiceRequest',
    example: {
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'checkout' } },
              { key: 'deployment.environment.name', value: { stringValue: 'production' } },
            ],
          },
          scopeLogs: [
            {
              scope: { name: 'app' },
              logRecords: [
                { timeUnixNano: '1718000000000000000', severityNumber: 17, severityText: 'ERROR', body: { stringValue: 'payment failed' } },
              ],
            },
          ],
        },
      ],
    },
  });

const Span = z.object({
  traceId: z.string().meta({ description: '32 hex characters' }),
  spanId: z.string().meta({ description: '16 hex characters' }),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().int().min(0).max(5).optional(),
  startTimeUnixNano: z.string(),
  endTimeUnixNano: z.string(),
  attributes: z.array(KeyValue).optional(),
  events: z.array(z.object({ timeUnixNano: z.string(), name: z.string(), attributes: z.array(KeyValue).optional() })).optional(),
  status: z.object({ code: z.number().int().min(0).max(2).optional(), message: z.string().optional() }).optional(),
});
export const ExportTraceRequest = z
  .object({
    resourceSpans: z.array(
      z.object({ resource: Resource.optional(), scopeSpans: z.array(z.object({ scope: Scope.optional(), spans: z.array(Span) })) }),
    ),
  })
  .meta({ id: 'OtlpExportTraceServiceRequest' });

const Partial = (field: string) =>
  z.object({ partialSuccess: z.object({ [field]: z.number().int(), errorMessage: z.string() }).optional() }).meta({
    description: 'Empty when everything was stored; `partialSuccess` counts the records refused and says why',
  });
const Status = z.object({ code: z.number().int(), message: z.string(), details: z.array(z.record(z.string(), z.unknown())) }).meta({
  id: 'GoogleRpcStatus',
  description:
    'google.rpc.Status (protobuf-encoded for protobuf requests); details[0] is a google.rpc.ErrorInfo whose reason is the stable error code',
  example: {
    code: 3,
    message: 'The body is not a valid OTLP export request: invalid wire type 7 at offset 1',
    details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'undecodable', domain: 'faultline', metadata: {} }],
  },
});
const statusResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: Status }, 'application/x-protobuf': { schema: z.string().meta({ format: 'binary' }) } },
});
const errors = {
  400: statusResponse('Undecodable body (garbage protobuf, JSON with wrong types, bad hex ids), or every record rejected'),
  401: statusResponse('No API key, or an unknown or revoked one'),
  403: statusResponse('The key lacks the ingest scope'),
  413: statusResponse('Body (after gzip) or record count over the limits'),
  415: statusResponse('Content-Type other than application/x-protobuf or application/json, or an unknown Content-Encoding'),
  429: statusResponse("Over the project's or key's quota, or shedding load (queue over capacity): retry after Retry-After"),
  503: statusResponse('Queue unavailable: retry after Retry-After'),
};
const headers = z.object({
  'x-faultline-key': z.string().optional().meta({ description: 'The project API key (or Authorization: Bearer <api_key>)' }),
  'Content-Encoding': z.enum(['gzip', 'deflate', 'br', 'zstd']).optional(),
});
const description =
  'OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp), protobuf or JSON. Point an OpenTelemetry exporter at the server ' +
  '(OTEL_EXPORTER_OTLP_ENDPOINT=http://host:3000, OTEL_EXPORTER_OTLP_HEADERS=x-faultline-key=flk_…). The key is the project API key ' +
  '(ingest scope) as `Authorization: Bearer`, `x-faultline-key` or Basic auth (the key as password). 200 means durably queued; records ' +
  'that break a limit (attributes per record, id lengths, timestamps in the future) are refused alone and counted in partialSuccess.';

for (const path of ['/v1/logs', '/api/otlp/v1/logs']) {
  registry.registerPath({
    method: 'post',
    path,
    tags: ['opentelemetry'],
    summary: 'OTLP logs → logs (and error events, for records with exception.* attributes)',
    description,
    security: [{ [apiKeyAuth.name]: [] }],
    request: {
      headers,
      body: {
        required: true,
        content: {
          'application/x-protobuf': { schema: z.string().meta({ format: 'binary' }) },
          'application/json': { schema: ExportLogsRequest },
        },
      },
    },
    responses: {
      200: { description: 'Stored (durably queued)', content: { 'application/json': { schema: Partial('rejectedLogRecords') } } },
      ...errors,
    },
  });
}

for (const path of ['/v1/traces', '/api/otlp/v1/traces', '/api/public/otel/v1/traces']) {
  registry.registerPath({
    method: 'post',
    path,
    tags: ['opentelemetry'],
    summary:
      path === '/api/public/otel/v1/traces'
        ? "OTLP traces where Langfuse's SDKs export (baseUrl + /api/public/otel/v1/traces): Basic auth public:secret with a Faultline API key as the secret"
        : 'OTLP traces → spans; exceptions on ERROR spans → error events; GenAI spans (gen_ai.*, langfuse.observation.*) → LLM logs',
    description,
    security: [{ [apiKeyAuth.name]: [] }],
    request: {
      headers,
      body: {
        required: true,
        content: {
          'application/x-protobuf': { schema: z.string().meta({ format: 'binary' }) },
          'application/json': { schema: ExportTraceRequest },
        },
      },
    },
    responses: {
      200: { description: 'Stored (durably queued)', content: { 'application/json': { schema: Partial('rejectedSpans') } } },
      ...errors,
    },
  });
}

for (const path of ['/v1/metrics', '/api/otlp/v1/metrics']) {
  registry.registerPath({
    method: 'post',
    path,
    tags: ['opentelemetry'],
    summary: 'OTLP metrics are not stored: always 404 (signal_not_supported), so exporters stop instead of believing a silent 200',
    responses: { 404: statusResponse('Metrics are not a signal Faultline receives') },
  });
}

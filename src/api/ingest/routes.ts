import type { DataSource } from 'typeorm';
import { config } from '../../config.ts';
import type { Access } from '../../domain/access/index.ts';
import type { IngestLimits } from '../../domain/ingest/items.ts';
import type { WorkSink } from '../../domain/sinks.ts';
import type { LlmLogProducer, SpanProducer } from '../../queues/llmLogProducer.ts';
import { TraceProducer } from '../../queues/traceProducer.ts';
import type { EventProducer } from '../../queues/producer.ts';
import type { DumpStores } from '../../storage/index.ts';
import type { SessionProducer } from '../../queues/sessionProducer.ts';
import type { EnvelopeAttachments } from '../../domain/attachments/attachments.ts';
import type { IncomingMessage } from 'node:http';
import { dumpReplaceRoute, dumpUploadRoute } from '../routes/dumps/upload.ts';
import { pantiesRoute } from '../routes/events/ingest.ts';
import { dataideaEventLogRoute, dataideaLlmLogRoute } from '../routes/logs/dataidea.ts';
import { logsRoute } from '../routes/logs/ingest.ts';
import { sentryRoutes } from '../routes/sentry/ingest.ts';
import { otlpRoutes } from '../routes/otlp/otlp.ts';
import { monitorPingRoute } from '../routes/monitors/monitors.ts';
import { langfuseHealthRoute, langfuseIngestionRoute, langfuseUnsupportedRoute } from '../routes/langfuse/ingestion.ts';
import type { IngestRoute } from './runner.ts';
import type { InboundFilterCache } from '../../domain/outcomes/inboundFilters.ts';
import { countRefusals } from './outcomes.ts';
import type { DiskGuard, Quotas } from '../../domain/quotas/index.ts';

export interface IngestDeps {
  ds: DataSource;
  access: Access;
  producer: EventProducer;
  llmProducer: LlmLogProducer;
  spanProducer: SpanProducer;
  sink: WorkSink;
  stores: DumpStores;
  /** Release health: Sentry session items. */
  sessions?: Pick<SessionProducer, 'enqueue'>;
  /** Sentry attachments, kept with their event. */
  attachments?: Pick<EnvelopeAttachments, 'keep'>;
  /** The sender's address (TRUST_PROXY applied), for Sentry's `{{auto}}` user IP. */
  clientIp?: (req: IncomingMessage) => string | undefined;
  /** Per-project inbound filters for Sentry events (src/domain/outcomes). */
  filters?: Pick<InboundFilterCache, 'apply'>;
  /** Quotas and spike protection per project and key (src/domain/quotas). */
  quotas: Quotas;
  /** Free space checks before uploads are written. */
  disk: DiskGuard;
}

/**
 * Every way into ingestion, one table (see runner.ts): the lean dispatcher serves the
 * routes from it, Express mounts the `via: 'express'` ones, and the Expect: 100-continue
 * check runs their header phase. Order matters only where paths overlap (none do).
 */
/** Langfuse's own body limit (its SDKs send batches of up to 3.5 MB). */
const LANGFUSE_MAX_BATCH_BYTES = 4.5 * 1024 * 1024;

export function ingestRoutes(deps: IngestDeps): IngestRoute[] {
  const limits: IngestLimits = config.ingest;
  // An LLM log holds a prompt and a response of up to maxTextBytes each, plus its metadata.
  const llmItemBytes = 2 * config.llmLogs.maxTextBytes + config.ingest.maxEventBytes;
  const llmLimits = { ...limits, maxEventBytes: llmItemBytes, maxRequestBytes: Math.max(limits.maxRequestBytes, llmItemBytes) };
  const { access, producer, quotas } = deps;
  const dumps = { ds: deps.ds, access, sink: deps.sink, stores: deps.stores, maxBytes: config.dumps.maxBytes };
  const uploads = { ...dumps, quotas, disk: { guard: deps.disk, dir: config.dumpsDir } };
  const dataidea = { access, producer, llm: deps.llmProducer, limits, llmLimits, maxTextBytes: config.llmLogs.maxTextBytes, quotas };
  const traces = new TraceProducer(producer, deps.llmProducer, deps.spanProducer);
  const routes = [
    pantiesRoute({ access, producer, limits, quotas }),
    dataideaEventLogRoute(dataidea),
    dataideaLlmLogRoute(dataidea),
    logsRoute({ access, producer, limits, quotas }),
    ...sentryRoutes({
      access,
      producer,
      dumps,
      traces,
      sessions: deps.sessions,
      attachments: deps.attachments,
      clientIp: deps.clientIp,
      filters: deps.filters,
      quotas,
      disk: deps.disk,
      dirs: { dumps: config.dumpsDir, artifacts: config.artifacts.dir },
    }),
    ...otlpRoutes({
      access,
      producer,
      llm: deps.llmProducer,
      spans: deps.spanProducer,
      limits: { ...config.otlp, maxEventBytes: config.ingest.maxEventBytes, maxTextBytes: config.llmLogs.maxTextBytes },
      quotas,
    }),
    // Langfuse's classic SDKs (after the OTLP routes: /api/public/otel/v1/traces is theirs).
    langfuseIngestionRoute({
      access,
      traces,
      maxRequestBytes: Math.max(LANGFUSE_MAX_BATCH_BYTES, llmLimits.maxRequestBytes),
      maxTextBytes: config.llmLogs.maxTextBytes,
    }),
    langfuseHealthRoute('faultline'),
    langfuseUnsupportedRoute(),
    dumpUploadRoute(uploads),
    dumpReplaceRoute(dumps),
    monitorPingRoute({ ds: deps.ds, access, sink: deps.sink, producer }),
  ] as IngestRoute[];
  // Every refusal where the project is known is an outcome too (what was dropped and why).
  return routes.map(countRefusals);
}

/** A route of the table by name (for Express to mount the ones it serves). */
export function routeNamed(routes: readonly IngestRoute[], name: string): IngestRoute {
  const route = routes.find((r) => r.name === name);
  if (!route) throw new Error(`no ingest route named ${name}`);
  return route;
}

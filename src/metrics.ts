import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process; /metrics serves it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'faultline_' });

export const httpRequests = new Counter({
  name: 'faultline_http_requests_total',
  help: 'HTTP requests by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'faultline_http_request_duration_seconds',
  help: 'HTTP request duration by method and route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const ingestedItems = new Counter({
  name: 'faultline_ingest_accepted_total',
  help: 'Items accepted (202) by the API, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const ingestRejected = new Counter({
  name: 'faultline_ingest_rejected_total',
  help: 'Ingest requests refused, by status code',
  labelNames: ['kind', 'status'] as const,
  registers: [registry],
});

// Label-bound children, cached: the hot ingest path observes every request.
const counters = new Map<string, ReturnType<typeof httpRequests.labels>>();
const timers = new Map<string, ReturnType<typeof httpDuration.labels>>();

export function observeHttp(method: string, route: string, status: number, startedNs: bigint): void {
  const key = `${method} ${route}`;
  const ckey = `${key} ${status}`;
  let c = counters.get(ckey);
  if (!c) counters.set(ckey, (c = httpRequests.labels(method, route, String(status))));
  let t = timers.get(key);
  if (!t) timers.set(key, (t = httpDuration.labels(method, route)));
  c.inc();
  t.observe(Number(process.hrtime.bigint() - startedNs) / 1e9);
}

export const unhandledRejections = new Counter({
  name: 'faultline_unhandled_rejections_total',
  help: 'Promise rejections nothing handled (each is a bug: logged with its stack, the process keeps serving)',
  registers: [registry],
});

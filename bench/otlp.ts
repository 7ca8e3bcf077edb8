/**
 * `npm run bench:otlp` — OTLP logs against native batch ingest of the same records, in
 * one run, end to end (first request → all stored), plus the trace API on a 1,000-span
 * trace.
 *
 * The same N log records (~600 B messages, two attributes) go three ways, 512 per request
 * by default: seed 3's native batch (`POST /api/event-log/`, a JSON array), OTLP protobuf
 * and OTLP JSON (`POST /v1/logs`). Each format gets a fresh project, so its stored count
 * (`GET /api/user/stats/` total_event_logs, exact) starts at zero. Targets: each OTLP
 * format's stored records/s ≥ 0.8 × native's; trace API p95 ≤ 100 ms. Quote the ratios:
 * absolute numbers depend on the machine.
 *
 *   npm run bench:otlp -- [--records N=102400] [--batch B=512] [--concurrency C=8] [--url URL]
 *
 * Target: --url / BENCH_URL; else a running `npm start`; else a throwaway stack.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeRequest } from '../src/domain/ingest/formats/otlp/decode.ts';
import { createBenchProject, fmt, runLoad, table, waitForStored, type BenchProject } from './lib.ts';
import { root, runBench, say, startThrowawayStack } from './stack.ts';

const LOG_RATIO_TARGET = 0.8;
const TRACE_P95_TARGET_MS = 100;

function options() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string' },
      batch: { type: 'string' },
      concurrency: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const n = (v: string | undefined, env: string, def: number) => {
    const raw = v ?? process.env[env];
    const x = raw === undefined || raw === '' ? def : Number(raw);
    if (!Number.isInteger(x) || x < 1) throw new Error(`bad ${env}: ${raw}`);
    return x;
  };
  const batch = n(values.batch, 'BENCH_BATCH', 512);
  const requests = Math.ceil(n(values.records, 'BENCH_RECORDS', 102_400) / batch);
  return {
    help: values.help ?? false,
    batch,
    requests,
    records: requests * batch,
    concurrency: n(values.concurrency, 'BENCH_CONCURRENCY', 8),
    url: (values.url ?? process.env.BENCH_URL)?.replace(/\/+$/, ''),
  };
}

async function target(url: string | undefined): Promise<string> {
  if (url) return url;
  const { localStackUrls } = await import('../src/cli/localStack.ts');
  const local = localStackUrls();
  if (local) return local.webUrl;
  return (await startThrowawayStack('otlp')).url;
}

// The same records, three encodings. Every record differs (its time, its user): OTLP ids
// are derived from the content, so a repeated record would be stored once.
const message = (r: number, i: number) =>
  `user u${r}-${i} signed in from 10.0.${r % 250}.${i % 250} after 2 attempts; session renewed, cart restored with 3 items `.repeat(5);
const baseNs = BigInt(Date.now()) * 1_000_000n;

function nativeBody(r: number, batch: number): string {
  return JSON.stringify(
    Array.from({ length: batch }, (_, i) => ({
      user_id: `u${r}-${i}`,
      message: message(r, i),
      level: 'info',
      metadata: { 'http.status': 200, 'user.id': `u${r}-${i}` },
    })),
  );
}

function otlpRequest(r: number, batch: number, hexIds: boolean) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeLogs: [
          {
            scope: { name: 'bench' },
            logRecords: Array.from({ length: batch }, (_, i) => ({
              timeUnixNano: String(baseNs + BigInt(r * batch + i) * 1000n),
              severityNumber: 9,
              severityText: 'INFO',
              body: { stringValue: message(r, i) },
              attributes: [
                { key: 'http.status', value: { intValue: 200 } },
                { key: 'user.id', value: { stringValue: `u${r}-${i}` } },
              ],
              ...(hexIds
                ? { traceId: (r * batch + i).toString(16).padStart(32, '0'), spanId: '00000000000000a1' }
                : {
                    traceId: Buffer.from((r * batch + i).toString(16).padStart(32, '0'), 'hex'),
                    spanId: Buffer.from('00000000000000a1', 'hex'),
                  }),
            })),
          },
        ],
      },
    ],
  };
}

async function storedLogs(base: string, p: BenchProject): Promise<number> {
  const res = await fetch(`${base}/api/user/stats/`, { headers: { authorization: `Bearer ${p.access}` } });
  return ((await res.json()) as { total_event_logs: number }).total_event_logs;
}

interface FormatRun {
  format: string;
  acceptedPerS: number;
  storedPerS: number;
  stored: number;
  complete: boolean;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

async function runFormat(base: string, format: 'native' | 'otlp-proto' | 'otlp-json', o: ReturnType<typeof options>): Promise<FormatRun> {
  const project = await createBenchProject(base);
  const bodies: Array<string | Buffer> = [];
  for (let r = 0; r < o.requests; r++) {
    bodies.push(
      format === 'native'
        ? nativeBody(r, o.batch)
        : format === 'otlp-json'
          ? JSON.stringify(otlpRequest(r, o.batch, true))
          : encodeRequest('logs', otlpRequest(r, o.batch, false)),
    );
  }
  const load = {
    url: `${base}${format === 'native' ? '/api/event-log/' : '/v1/logs'}`,
    body: bodies[0],
    bodies,
    connections: Math.min(o.concurrency, o.requests),
    requests: o.requests,
    headers: {
      authorization: `Bearer ${project.apiKey}`,
      'content-type': format === 'otlp-proto' ? 'application/x-protobuf' : 'application/json',
    },
  };
  say(`${format}: ${fmt.int(o.records)} records in ${o.requests} requests…`);
  const run = await runLoad(load);
  const wait = await waitForStored(() => storedLogs(base, project), run.accepted * o.batch, 100, 60_000);
  const seconds = (wait.at - run.startedAt) / 1000;
  return {
    format,
    acceptedPerS: (run.acceptedPerS * o.batch) | 0,
    storedPerS: wait.stored / seconds,
    stored: wait.stored,
    complete: wait.complete && run.accepted === o.requests,
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    non2xx: run.non2xx,
  };
}

/** One trace of 1,000 spans (a tree, ten children per span), then GET /api/traces/{id}/ 100 times. */
async function traceApi(base: string): Promise<{ p50: number; p95: number; spans: number }> {
  const project = await createBenchProject(base);
  const traceId = Buffer.from('bench'.padEnd(16, '0')).toString('hex').slice(0, 32);
  const spanId = (i: number) => Buffer.from((i + 1).toString(16).padStart(16, '0'), 'hex');
  const spans = Array.from({ length: 1000 }, (_, i) => ({
    traceId: Buffer.from(traceId, 'hex'),
    spanId: spanId(i),
    ...(i ? { parentSpanId: spanId(Math.floor((i - 1) / 10)) } : {}),
    name: i ? `SELECT items ${i}` : 'GET /bench',
    kind: i ? 3 : 2,
    startTimeUnixNano: String(baseNs + BigInt(i) * 1000n),
    endTimeUnixNano: String(baseNs + BigInt(i) * 1000n + 500_000n),
    attributes: [{ key: 'db.statement', value: { stringValue: `SELECT * FROM items WHERE id = ${i}` } }],
  }));
  const res = await fetch(`${base}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${project.apiKey}` },
    body: encodeRequest('traces', {
      resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] }, scopeSpans: [{ spans }] }],
    }),
  });
  if (res.status !== 200) throw new Error(`traces: ${res.status} ${await res.text()}`);
  const url = `${base}/api/traces/${traceId}/`;
  const get = () => fetch(url, { headers: { authorization: `Bearer ${project.access}` } });
  await waitForStored(async () => ((await (await get()).json()) as { counts?: { spans: number } }).counts?.spans ?? 0, 1000, 100, 60_000);
  for (let i = 0; i < 10; i++) await (await get()).arrayBuffer(); // warm
  const times: number[] = [];
  let count = 0;
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    const body = (await (await get()).json()) as { spans: unknown[] };
    times.push(performance.now() - t);
    count = body.spans.length;
  }
  times.sort((a, b) => a - b);
  return { p50: times[49], p95: times[94], spans: count };
}

async function main() {
  const o = options();
  if (o.help)
    return void process.stdout.write('npm run bench:otlp -- [--records N=102400] [--batch B=512] [--concurrency C=8] [--url URL]\n');
  say(`${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  const base = await target(o.url);
  say(`Faultline: ${base}`);
  const runs: FormatRun[] = [];
  for (const format of ['native', 'otlp-proto', 'otlp-json'] as const) runs.push(await runFormat(base, format, o));
  const trace = await traceApi(base);
  const native = runs[0].storedPerS;
  const rows = [
    ['', ...runs.map((r) => r.format)],
    ['records/s accepted', ...runs.map((r) => fmt.int(r.acceptedPerS))],
    ['records/s stored (end to end)', ...runs.map((r) => fmt.int(r.storedPerS))],
    ['÷ native', ...runs.map((r) => (r.storedPerS / native).toFixed(2))],
    ['p50 / p99 accept latency (ms)', ...runs.map((r) => `${fmt.ms(r.p50Ms)} / ${fmt.ms(r.p99Ms)}`)],
    ['stored', ...runs.map((r) => `${fmt.int(r.stored)} / ${fmt.int(o.records)}${r.complete ? '' : ' (incomplete)'}`)],
    ['non-2xx', ...runs.map((r) => fmt.int(r.non2xx))],
  ];
  process.stdout.write(`\n${table(rows)}\n\n`);
  const logsPass = runs.slice(1).every((r) => r.complete && r.storedPerS >= LOG_RATIO_TARGET * native);
  process.stdout.write(
    `OTLP ÷ native stored records/s: ${runs
      .slice(1)
      .map((r) => `${r.format} ${(r.storedPerS / native).toFixed(2)}`)
      .join(', ')}  (target ≥ ${LOG_RATIO_TARGET})  ${logsPass ? 'PASS' : 'BELOW'}\n`,
  );
  const tracePass = trace.spans === 1000 && trace.p95 <= TRACE_P95_TARGET_MS;
  process.stdout.write(
    `trace API, 1,000-span trace: p50 ${fmt.ms(trace.p50)} ms, p95 ${fmt.ms(trace.p95)} ms  (target p95 ≤ ${TRACE_P95_TARGET_MS})  ${tracePass ? 'PASS' : 'BELOW'}\n`,
  );
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `otlp-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ at: new Date().toISOString(), params: o, runs, trace, pass: { logs: logsPass, trace: tracePass } }, null, 2) + '\n',
  );
  process.stdout.write(`\nresults: ${path.relative(root, file)}\n`);
}

await runBench(main);

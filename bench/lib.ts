/**
 * Pieces of `npm run bench` (bench/ingest.ts): the event body, the load generator,
 * the bare node:http baseline, the few API calls the bench makes, clean-up helpers for
 * a throwaway stack, and the table.
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

// ---------------------------------------------------------------------------------
// The event: a seed-1 (Panties) error event of exactly EVENT_BYTES of JSON.

export const EVENT_BYTES = 1024;

const FRAMES = [
  ['/srv/app/venv/lib/python3.12/site-packages/django/core/handlers/exception.py', 55, 'inner', 'response = get_response(request)'],
  ['/srv/app/venv/lib/python3.12/site-packages/django/core/handlers/base.py', 197, '_get_response', 'response = wrapped_callback(request)'],
  ['/srv/app/shop/views/checkout.py', 142, 'submit_order', 'total = pricing.total_for(cart, currency=request.session["currency"])'],
  ['/srv/app/shop/pricing.py', 88, 'total_for', 'return sum(line.amount(currency) for line in cart.lines)'],
  ['/srv/app/shop/pricing.py', 31, 'amount', 'rate = RATES[currency]'],
];

/**
 * One event as a seed-1 client posts it, sized to exactly EVENT_BYTES of JSON by
 * cutting a realistic traceback short (SDKs truncate long ones too). No event_id: the
 * server assigns one, so identical bodies still make distinct events.
 */
export function seedEvent(): Record<string, unknown> {
  const frames = FRAMES.map(([f, l, fn, src]) => `  File "${f}", line ${l}, in ${fn}\n    ${src}`);
  const trace = ['Traceback (most recent call last):', ...frames, ...frames, "KeyError: 'CHF'"].join('\n');
  const event = {
    event_type: 'exception',
    exception_type: 'KeyError',
    message: "KeyError: 'CHF'",
    stacktrace: trace,
    level: 'error',
    environment: 'production',
    service_name: 'shop-web',
    timestamp: Math.floor(Date.now() / 10) / 100, // epoch seconds, as Python's time.time()
    tags: { severity: 'high', release: '2025.11.3', host: 'web-3' },
    extra: { user_id: '48213', path: '/checkout/submit/', method: 'POST' },
  };
  const size = () => Buffer.byteLength(JSON.stringify(event));
  // Escapes (\n, \") make JSON longer than the text: cut, measure, repeat.
  while (size() > EVENT_BYTES)
    event.stacktrace = event.stacktrace.slice(0, event.stacktrace.length - Math.max(1, Math.floor((size() - EVENT_BYTES) / 2)));
  event.stacktrace += ' '.repeat(EVENT_BYTES - size());
  return event;
}

/** The request body: one event, or an array of `batch` events. */
export function requestBody(batch: number): string {
  const event = seedEvent();
  return JSON.stringify(batch === 1 ? event : Array.from({ length: batch }, () => event));
}

// ---------------------------------------------------------------------------------
// Load generator

export interface LoadOptions {
  url: string;
  body: string | Buffer;
  /** Distinct bodies, sent in turn (content-derived ids, as OTLP's, would make one body's repeats duplicates). */
  bodies?: ReadonlyArray<string | Buffer>;
  headers?: Record<string, string>;
  connections: number;
  requests: number;
}

export interface LoadStats {
  requests: number;
  accepted: number; // 2xx answers
  non2xx: number;
  errors: number; // connection errors and timeouts
  statusCodes: Record<string, number>;
  seconds: number; // first request sent → last answer received
  acceptedPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  perSecond: number[]; // 2xx answers in each second of the run: shows a rate that sags as data grows
  startedAt: number; // performance.now() just before the first request
}

/**
 * Sends exactly `requests` POSTs over `connections` keep-alive connections (autocannon).
 * Timing and latencies are taken from its per-response events rather than its summary:
 * with `amount`, autocannon only notices the end at its next sample tick, and its
 * latency histogram keeps whole milliseconds — too coarse for a 1–2 ms baseline.
 * One client in this process: its `workers` option measured no faster on 2 cores.
 */
export async function runLoad(o: LoadOptions): Promise<LoadStats> {
  if (o.requests < o.connections) throw new Error(`need at least as many requests (${o.requests}) as connections (${o.connections})`);
  const latencies = new Float64Array(o.requests);
  const perSecond: number[] = [];
  let n = 0;
  let next = 0;
  let lastAt = 0;
  const startedAt = performance.now();
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...o.headers },
        body: o.body,
        ...(o.bodies
          ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, body: o.bodies![next++ % o.bodies!.length] }) }] }
          : {}),
        connections: o.connections,
        amount: o.requests,
        timeout: 30,
        sampleInt: 100,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastAt = performance.now();
      if (statusCode < 200 || statusCode >= 300 || n >= latencies.length) return;
      latencies[n++] = responseTime;
      const second = Math.floor((lastAt - startedAt) / 1000);
      perSecond[second] = (perSecond[second] ?? 0) + 1;
    });
  });
  const seconds = ((lastAt || performance.now()) - startedAt) / 1000;
  const sorted = latencies.subarray(0, n).sort();
  const pct = (p: number) => (n ? sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] : NaN);
  return {
    requests: o.requests,
    accepted: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0])),
    seconds,
    acceptedPerS: r['2xx'] / seconds,
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: n ? sorted[n - 1] : NaN,
    perSecond: Array.from(perSecond, (c) => c ?? 0),
    startedAt,
  };
}

// ---------------------------------------------------------------------------------
// Baseline server (bench/baseline-server.ts) in a child process

export interface Baseline {
  url: string;
  stop(): Promise<void>;
}

export async function startBaseline(): Promise<Baseline> {
  // fork() reuses our execArgv, so the child runs TypeScript through the same SWC hook.
  const child = fork(fileURLToPath(new URL('./baseline-server.ts', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`baseline server exited (${code}) before listening`)));
  });
  return {
    url: `http://127.0.0.1:${port}/api/events/`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------
// The public API calls the bench needs

export async function call<T>(method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export interface BenchProject {
  projectId: number;
  apiKey: string;
  access: string;
}

/** A fresh user and project per run, so the event count starts at zero. */
export async function createBenchProject(base: string): Promise<BenchProject> {
  const email = `bench-${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = `bench-${Math.random().toString(36).slice(2)}-pw`;
  const reg = await call<{ project: { id: number; api_key: string } }>('POST', `${base}/api/auth/register/`, { email, password });
  const { access } = await call<{ access: string }>('POST', `${base}/api/auth/login/`, { email, password });
  return { projectId: reg.project.id, apiKey: reg.project.api_key, access };
}

/**
 * How many of the run's events are stored, exactly: the sum of the project's issue
 * counters (every bench event is an error event, so each is counted in exactly one
 * issue, in the same statement that stores it). The event list's `count` is capped
 * above 10,000 rows, so it cannot tell.
 */
export async function storedCount(base: string, p: BenchProject): Promise<number> {
  const page = await call<{ results: Array<{ times_seen: number }> }>(
    'GET',
    `${base}/api/issues/?project=${p.projectId}&page_size=1000`,
    undefined,
    p.access,
  );
  return page.results.reduce((n, i) => n + i.times_seen, 0);
}

export interface StoreWait {
  stored: number;
  at: number; // performance.now() when `stored` was first seen
  complete: boolean;
}

/**
 * Polls the project's event count until it reaches `target`. Gives up once the count
 * has not moved for `stallMs` (events lost, or a worker stuck), so the bench ends.
 */
export async function waitForStored(read: () => Promise<number>, target: number, everyMs: number, stallMs: number): Promise<StoreWait> {
  let last = -1;
  let movedAt = performance.now();
  for (;;) {
    const stored = await read();
    const now = performance.now();
    if (stored >= target) return { stored, at: now, complete: true };
    if (stored !== last) [last, movedAt] = [stored, now];
    else if (now - movedAt > stallMs) return { stored, at: movedAt, complete: false };
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---------------------------------------------------------------------------------
// Throwaway stack leftovers and logs

/**
 * What a throwaway stack can leave behind when its launcher is stopped before it has
 * recorded its services (or is killed): PostgreSQL from its postmaster.pid, and a
 * Redis still answering on the stack's port — ours, so SHUTDOWN NOSAVE is its clean exit.
 */
export async function reapLeftovers(postmasterPid: string, redisPort: number, say: (msg: string) => void): Promise<void> {
  if (existsSync(postmasterPid)) {
    const pid = Number(readFileSync(postmasterPid, 'utf8').split('\n')[0]);
    if (alive(pid)) {
      say(`stopping leftover PostgreSQL (pid ${pid})`);
      process.kill(pid, 'SIGINT');
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  await new Promise<void>((resolve) => {
    const s = new Socket();
    const done = () => (s.destroy(), resolve());
    s.setTimeout(1000, done).once('error', done).once('close', done);
    s.connect(redisPort, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      if (!d.toString().startsWith('+PONG')) return done();
      say('stopping leftover Redis');
      s.end('SHUTDOWN NOSAVE\r\n');
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function logTail(file: string, lines: number): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}

/** Warnings and errors the stack logged (pino JSON at level ≥ 40, launcher complaints). */
export function stackProblems(file: string | undefined): string[] {
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /"level":\s*(4|5|6)\d/.test(l) || /^\[faultline\].*(exited|failed|error)/i.test(l));
}

// ---------------------------------------------------------------------------------
// Output

/** Renders rows as aligned columns; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('   ')).join('\n');
}

export const fmt = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–'),
  ms: (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–'),
  s: (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–'),
};

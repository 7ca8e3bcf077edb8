/**
 * Scrubbing's cost on ingest (issue 16): the same realistic Sentry events — request
 * headers, cookies, query string, a form body with a password, breadcrumbs, frames with
 * variables, user, contexts — stored end to end by two throwaway stacks, one with the
 * default scrubbing rules (SCRUBBING_ENABLED=true, the default) and one without
 * (SCRUBBING_ENABLED=false). Three rounds of one run each, the order flipping every round;
 * the best run of each counts. Also the scrubber's own cost per event, measured in-process.
 * Target: on ÷ off ≥ 0.9.
 */
import { randomBytes } from 'node:crypto';
import { startThrowawayStack } from './stack.ts';
import { say } from './stack.ts';
import { scrubEvent } from '../src/domain/scrubbing/records.ts';
import { Scrubber } from '../src/domain/scrubbing/scrubber.ts';
import { sentryEventToRecord } from '../src/domain/ingest/formats/sentry/normalize.ts';
import { createBenchProject, fmt, runLoad, storedCount, waitForStored } from './lib.ts';

export const SCRUB_TARGET_RATIO = 0.9;
/** Alternating off/on runs; the best of each counts (a busy moment on a shared machine slows one run, never speeds it). */
const ROUNDS = 3;

/** One Sentry error event as @sentry/node sends it for a failed login, ~5 KB. */
export function sentryEvent(): string {
  const frames = Array.from({ length: 12 }, (_, i) => ({
    filename: `/app/src/routes/auth${i}.js`,
    abs_path: `/app/src/routes/auth${i}.js`,
    module: `routes.auth${i}`,
    function: `handler${i}`,
    lineno: 10 + i,
    colno: 5,
    in_app: i > 3,
    context_line: `    const user = await users.find(req.body.username); // ${i}`,
    pre_context: ['', 'async function login(req, res) {'],
    post_context: ['  if (!user) throw new AuthError()', '}'],
    vars: { username: 'bob', attempt: i, password: 'Hunter2-Secret!', remember: true },
  }));
  const breadcrumbs = Array.from({ length: 20 }, (_, i) => ({
    timestamp: 1_700_000_000 + i,
    category: i % 2 ? 'http' : 'console',
    level: 'info',
    message: i % 5 === 0 ? `GET /api/me?token=tok_${randomBytes(6).toString('hex')} 200` : `rendered page ${i} in ${i * 3} ms`,
    data: { method: 'GET', url: `https://shop.test/api/items/${i}`, status_code: 200 },
  }));
  return JSON.stringify({
    platform: 'node',
    level: 'error',
    release: 'shop@1.0.0',
    environment: 'production',
    server_name: 'web-1',
    exception: {
      values: [{ type: 'AuthError', value: 'login failed for bob', mechanism: { type: 'generic', handled: true }, stacktrace: { frames } }],
    },
    request: {
      method: 'POST',
      url: 'https://shop.test/login?next=%2Fcart&token=tok_q7Zr9pLmX2wV',
      query_string: 'next=%2Fcart&token=tok_q7Zr9pLmX2wV',
      headers: {
        Host: 'shop.test',
        'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
        Accept: 'text/html,application/xhtml+xml',
        'Accept-Language': 'en-US,en;q=0.9',
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: 'Bearer sk_live_9fJ2kQ8vLp3mZx7R',
        Cookie: 'sessionid=sess_Y2h4bXd0; theme=dark; csrftoken=c5rf',
        Referer: 'https://shop.test/login',
        'X-Request-Id': 'req-123',
      },
      cookies: { sessionid: 'sess_Y2h4bXd0', theme: 'dark', csrftoken: 'c5rf' },
      data: 'username=bob&password=Hunter2-Secret!&remember=1',
    },
    user: { id: 'u-42', email: 'bob@example.com', ip_address: '203.0.113.9' },
    contexts: {
      os: { name: 'Linux', version: '6.1' },
      runtime: { name: 'node', version: 'v20.11.0' },
      trace: { trace_id: randomBytes(16).toString('hex'), span_id: randomBytes(8).toString('hex') },
    },
    tags: { route: '/login', region: 'eu-west-1' },
    extra: { attempt: 3, payment: { last4: '4242' } },
    breadcrumbs: { values: breadcrumbs },
    sdk: { name: 'sentry.javascript.node', version: '8.0.0' },
  });
}

/** The scrubber alone, in this process: µs per normalized event (the same events, default rules). */
function scrubberCost(): number {
  const scrubber = new Scrubber([], 'bench-hash-key-bench-hash-key-bench');
  const records = Array.from({ length: 200 }, () => sentryEventToRecord(JSON.parse(sentryEvent()), 1, new Date().toISOString()).record);
  for (let i = 0; i < 10; i++) for (const r of records) scrubEvent(scrubber, r);
  const started = performance.now();
  for (let i = 0; i < 25; i++) for (const r of records) scrubEvent(scrubber, r);
  return ((performance.now() - started) * 1000) / (25 * records.length);
}

export interface ScrubbingFigures {
  events: number;
  scrubberUsPerEvent: number;
  off: number[];
  on: number[];
  ratio: number;
  pass: boolean;
}

/** Starts both stacks, then alternates runs of `events` events each. */
export async function compareScrubbing(events: number, concurrency: number): Promise<ScrubbingFigures> {
  const [offStack, onStack] = [
    await startThrowawayStack('scrub-off', { SCRUBBING_ENABLED: 'false' }),
    await startThrowawayStack('scrub-on', { SCRUBBING_ENABLED: 'true' }),
  ];
  const bodies = Array.from({ length: 64 }, sentryEvent);
  const prepare = async (url: string) => {
    const project = await createBenchProject(url);
    return { url, project, headers: { 'x-sentry-auth': `Sentry sentry_key=${project.apiKey}, sentry_version=7` } };
  };
  const targets = { off: await prepare(offStack.url), on: await prepare(onStack.url) };
  const once = async (which: 'off' | 'on', n: number): Promise<number> => {
    const t = targets[which];
    const stored = () => storedCount(t.url, t.project);
    const before = await stored();
    const load = await runLoad({
      url: `${t.url}/api/${t.project.projectId}/store/`,
      body: bodies[0],
      bodies,
      connections: concurrency,
      requests: n,
      headers: t.headers,
    });
    const wait = await waitForStored(async () => (await stored()) - before, load.accepted, 100, 60_000);
    return wait.stored / ((wait.at - load.startedAt) / 1000);
  };
  // Warm both (JIT, plans, caches), then off/on twice.
  const warm = Math.max(concurrency, Math.floor(events / 10));
  await once('off', warm);
  await once('on', warm);
  const off: number[] = [];
  const on: number[] = [];
  // The order flips every round: a stack that has just stored a run (autovacuum, a checkpoint)
  // slows the run after it, and that must not always be the same side.
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of round % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      say(`scrubbing: round ${round + 1}, ${which}…`);
      (which === 'on' ? on : off).push(await once(which, events));
    }
  }
  const ratio = Math.max(...on) / Math.max(...off);
  return { events, off, on, ratio, pass: ratio >= SCRUB_TARGET_RATIO, scrubberUsPerEvent: scrubberCost() };
}

export function scrubbingReport(f: ScrubbingFigures): string {
  return [
    `Sentry events with request headers, cookies, breadcrumbs (${fmt.int(f.events)} per run), stored end to end:`,
    `  scrubbing off (SCRUBBING_ENABLED=false): ${f.off.map((v) => fmt.int(v)).join(' / ')} events/s`,
    `  default rules on:                       ${f.on.map((v) => fmt.int(v)).join(' / ')} events/s`,
    `  on ÷ off (best runs): ${f.ratio.toFixed(2)}  (target ≥ ${SCRUB_TARGET_RATIO})  ${f.pass ? 'PASS' : 'BELOW'}`,
    `  the scrubber alone: ${f.scrubberUsPerEvent.toFixed(0)} µs per event (one process, no I/O)`,
  ].join('\n');
}

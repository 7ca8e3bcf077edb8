/**
 * `npm run bench:alerts` — what alert rules cost ingestion, and how fast a new issue
 * reaches a webhook.
 *
 * On a throwaway stack (private targets allowed, for the bench's own receiver on
 * loopback): N events into one project, first with no rules anywhere, then again with R
 * enabled rules spread over P projects (the loaded project among them: issue.new,
 * issue.regressed, issue.frequency and two events.threshold rules each, the windowed
 * ones set never to fire, so every event is matched and counted). During the second run a
 * probe sends one event of a brand-new issue to a random rule project every
 * 1000/--probes ms and times accept (202) → webhook received. Targets: throughput with
 * rules ≥ 0.9 × without; probe p99 ≤ 5 s.
 *
 *   npm run bench:alerts -- [--events N=100000] [--concurrency C=50] [--batch B=10] [--rules R=100] [--projects P=20] [--probes 5]
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import {
  call,
  createBenchProject,
  fmt,
  requestBody,
  runLoad,
  stackProblems,
  storedCount,
  table,
  waitForStored,
  type BenchProject,
} from './lib.ts';
import { onCleanup, runBench, say, startThrowawayStack } from './stack.ts';

const RATIO_TARGET = 0.9;
const P99_TARGET_MS = 5000;

function options() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      rules: { type: 'string' },
      projects: { type: 'string' },
      probes: { type: 'string' },
    },
  });
  const n = (k: keyof typeof values, def: number) => (values[k] === undefined ? def : Math.max(1, Number(values[k])));
  const batch = n('batch', 10);
  return {
    batch,
    requests: Math.ceil(n('events', 100_000) / batch),
    concurrency: n('concurrency', 50),
    rules: n('rules', 100),
    projects: n('projects', 20),
    probesPerS: n('probes', 5),
  };
}

/** The bench's webhook receiver: when each probe's message arrived. */
async function receiver() {
  const arrived = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      try {
        const m = /Probe(\d+)/.exec((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { title?: string }).title ?? '');
        if (m && !arrived.has(m[1])) arrived.set(m[1], at);
      } catch {
        /* not ours */
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, arrived };
}

async function rulesFor(base: string, p: BenchProject, hook: string, count: number): Promise<void> {
  const api = (path: string, body: unknown) => call<{ id: number }>('POST', `${base}/api/projects/${p.projectId}${path}`, body, p.access);
  const { id: channel } = await api('/alert-channels/', { name: 'bench', type: 'webhook', url: hook });
  const kinds = [
    { trigger: 'issue.new' },
    { trigger: 'issue.regressed' },
    { trigger: 'issue.frequency', params: { threshold: 1_000_000_000, window_minutes: 5 } },
    {
      trigger: 'events.threshold',
      params: { kind: 'error', threshold: 1_000_000_000, window_minutes: 10 },
      filters: { environments: ['production'], min_level: 'error' },
    },
    {
      trigger: 'events.threshold',
      params: { kind: 'any', threshold: 1_000_000_000, window_minutes: 60 },
      filters: { search: 'KeyError', tags: ['severity=high'] },
    },
  ];
  for (let i = 0; i < count; i++) await api('/alert-rules/', { name: `bench ${i}`, channels: [channel], ...kinds[i % kinds.length] });
}

async function load(base: string, p: BenchProject, o: ReturnType<typeof options>, body: string) {
  const before = await storedCount(base, p);
  const run = await runLoad({
    url: `${base}/api/events/`,
    body,
    connections: o.concurrency,
    requests: o.requests,
    headers: { authorization: `Bearer ${p.apiKey}` },
  });
  const wait = await waitForStored(async () => (await storedCount(base, p)) - before, run.accepted * o.batch, 100, 60_000);
  const seconds = (wait.at - run.startedAt) / 1000;
  return { run, stored: wait.stored, complete: wait.complete, seconds, eventsPerS: wait.stored / seconds };
}

async function main() {
  const o = options();
  const stack = await startThrowawayStack('alerts', { ALERT_ALLOW_PRIVATE_TARGETS: 'true', ALERT_RULE_CACHE_MS: '1000' });
  const hook = await receiver();
  const body = requestBody(o.batch);
  const loaded = await createBenchProject(stack.url);
  say(`warmup and run without rules: ${fmt.int(o.requests * o.batch)} events, ${o.batch} per request, concurrency ${o.concurrency}…`);
  await load(stack.url, loaded, { ...o, requests: Math.max(o.concurrency, Math.ceil(2000 / o.batch)) }, body);
  const without = await load(stack.url, loaded, o, body);

  say(`creating ${o.rules} rules over ${o.projects} projects…`);
  const projects = [loaded, ...(await Promise.all(Array.from({ length: o.projects - 1 }, () => createBenchProject(stack.url))))];
  for (const [i, p] of projects.entries())
    await rulesFor(stack.url, p, hook.url, Math.floor(o.rules / o.projects) + (i < o.rules % o.projects ? 1 : 0));
  await new Promise((r) => setTimeout(r, 1500)); // the workers' rule cache (ALERT_RULE_CACHE_MS)

  say('run with rules, and new-issue probes…');
  const sent = new Map<string, number>();
  let probing = true;
  let i = 0;
  const probes = (async () => {
    while (probing) {
      const id = String(i++);
      // Not the loaded project: its stored count is what the throughput is measured by.
      const others = projects.length > 1 ? projects.slice(1) : projects;
      const p = others[Math.floor(Math.random() * others.length)];
      const res = await fetch(`${stack.url}/api/events/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${p.apiKey}` },
        body: JSON.stringify({ exception_type: `Probe${id}`, message: `probe ${id}`, level: 'error', environment: 'production' }),
      });
      if (res.status === 202) sent.set(id, performance.now());
      await new Promise((r) => setTimeout(r, 1000 / o.probesPerS));
    }
  })();
  const withRules = await load(stack.url, loaded, o, body);
  probing = false;
  await probes;
  const deadline = performance.now() + 30_000;
  while ([...sent.keys()].some((k) => !hook.arrived.has(k)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const latencies = [...sent].flatMap(([k, t]) => (hook.arrived.has(k) ? [hook.arrived.get(k)! - t] : [])).sort((a, b) => a - b);
  const pct = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] : NaN);
  const ratio = withRules.eventsPerS / without.eventsPerS;

  process.stdout.write(
    `\n${table([
      ['', 'no rules', `${o.rules} rules`],
      ['events/s accepted', fmt.int(without.run.acceptedPerS * o.batch), fmt.int(withRules.run.acceptedPerS * o.batch)],
      ['end-to-end events/s', fmt.int(without.eventsPerS), fmt.int(withRules.eventsPerS)],
      [
        'events stored',
        `${fmt.int(without.stored)}${without.complete ? '' : ' (incomplete)'}`,
        `${fmt.int(withRules.stored)}${withRules.complete ? '' : ' (incomplete)'}`,
      ],
      ['new issue → webhook p50 (ms)', '–', fmt.ms(pct(0.5))],
      ['new issue → webhook p99 (ms)', '–', fmt.ms(pct(0.99))],
      ['probes delivered', '–', `${latencies.length} / ${sent.size}`],
    ])}\n\n`,
  );
  process.stdout.write(
    `throughput with rules ÷ without: ${ratio.toFixed(2)} (target ≥ ${RATIO_TARGET}) ${ratio >= RATIO_TARGET ? 'PASS' : 'BELOW'}\n`,
  );
  process.stdout.write(
    `probe p99: ${fmt.ms(pct(0.99))} ms (target ≤ ${P99_TARGET_MS}) ${pct(0.99) <= P99_TARGET_MS && latencies.length === sent.size ? 'PASS' : 'BELOW'}\n`,
  );
  const problems = stackProblems(stack.logFile);
  if (problems.length)
    process.stdout.write(`\nthe stack logged ${problems.length} warning/error line(s); first: ${problems[0].slice(0, 300)}\n`);
}

await runBench(main);

/**
 * `npm run bench:logs` — the logs read path at scale: list / filter / search latency
 * (p50, p95) over N logs (default 1,000,000), and CSV export rows/s with the web
 * process's RSS growth while it streams. Targets (issue 4): p95 ≤ 50 ms for a filtered
 * first page; export ≥ 50k rows/s with RSS growth under 100 MB. Quote ratios between
 * machines, not absolutes.
 *
 *   npm run bench:logs -- [--logs N] [--repeat R] [--reuse] [--url URL --database-url URL]
 *
 * Data: `npm run demo-data` (COPY) into the target's database — into the demo project,
 * cleared first unless --reuse finds at least N logs there already.
 * Target: --url with --database-url; else a running `npm start` (.data/stack.json);
 * else a throwaway stack (`npm start` in a temp DATA_DIR on free ports), stopped at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, table } from './lib.ts';
import { cleanup, onCleanup, root, startThrowawayStack } from './stack.ts';
import { dbClient, ingestPhase, partitionsForDemo, retentionRun, type IngestFigure } from './scale.ts';

const say = (msg: string) => process.stdout.write(`[bench:logs] ${msg}\n`);
const PASSWORD = 'bench-demo-password';

const { values: flags } = parseArgs({
  options: {
    logs: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '40' },
    reuse: { type: 'boolean', default: false },
    // Batches of 100 logs per ingest phase (empty table, N rows, during retention).
    'ingest-requests': { type: 'string', default: '300' },
    url: { type: 'string' },
    'database-url': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  process.stdout.write('npm run bench:logs -- [--logs N=1000000] [--repeat R=40] [--reuse] [--url URL --database-url URL]\n');
  process.exit(0);
}
const logs = Number(flags.logs);
const repeat = Number(flags.repeat);
if (!Number.isInteger(logs) || logs < 1000 || !Number.isInteger(repeat) || repeat < 5)
  throw new Error('--logs ≥ 1000 and --repeat ≥ 5, integers');

interface Target {
  url: string;
  databaseUrl: string;
  kind: string;
}

async function throwawayStack(): Promise<Target> {
  const stack = await startThrowawayStack('logs');
  return { url: stack.url, databaseUrl: stack.databaseUrl, kind: 'throwaway' };
}

async function resolveTarget(): Promise<Target> {
  if (flags.url) {
    if (!flags['database-url']) throw new Error('--url needs --database-url (the demo data is written with COPY)');
    return { url: flags.url.replace(/\/+$/, ''), databaseUrl: flags['database-url'], kind: 'url' };
  }
  const { localStackUrls } = await import('../src/cli/localStack.ts');
  const local = localStackUrls();
  return local ? { url: local.webUrl, databaseUrl: local.databaseUrl, kind: 'local' } : throwawayStack();
}

// ---------------------------------------------------------------------------------
// Measurements

async function seed(t: Target): Promise<number> {
  const { createDataSource } = await import('../src/db/data-source.ts');
  const { DEMO_PROJECT_SLUG, generateDemoData } = await import('../src/domain/logs/demo.ts');
  const ds = createDataSource({ url: t.databaseUrl, poolSize: 2, applicationName: 'faultline-bench' });
  await ds.initialize();
  try {
    const [found]: Array<{ id: number; n: number }> = await ds.query(
      `SELECT p.id, (SELECT count(*)::int FROM events e WHERE e.project_id = p.id AND e.kind = 'log') AS n FROM projects p WHERE p.slug = $1`,
      [DEMO_PROJECT_SLUG],
    );
    if (flags.reuse && found && found.n >= logs) {
      say(`reusing ${found.n.toLocaleString('en-US')} demo logs in project ${found.id}`);
      return found.id;
    }
    say(`writing ${logs.toLocaleString('en-US')} demo logs (COPY)…`);
    const started = performance.now();
    const result = await generateDemoData(ds, { logs, users: 5, clear: true, password: PASSWORD, seed: 42 });
    say(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s (including VACUUM ANALYZE)`);
    return result.projectId;
  } finally {
    await ds.destroy();
  }
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@logsdashboard.com', password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed (${res.status}); with --reuse, the demo users must have been written by this bench`);
  return ((await res.json()) as { access: string }).access;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function timeQuery(base: string, token: string, query: string): Promise<{ p50: number; p95: number; count: number }> {
  const once = async () => {
    const t0 = performance.now();
    const res = await fetch(`${base}${query}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { count: number };
    if (!res.ok) throw new Error(`${query} → ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    return { ms: performance.now() - t0, count: body.count };
  };
  for (let i = 0; i < 3; i++) await once(); // warm caches and plans
  const times: number[] = [];
  let count = 0;
  for (let i = 0; i < repeat; i++) {
    const r = await once();
    times.push(r.ms);
    count = r.count;
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 50), p95: pct(times, 95), count };
}

/** The web process's RSS, from its own /metrics (prom-client's process_resident_memory_bytes). */
async function webRss(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^faultline_process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function timeExport(base: string, token: string, projectId: number) {
  const before = await webRss(base);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await webRss(base).catch(() => 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const t0 = performance.now();
  const res = await fetch(`${base}/api/logs/export/?project=${projectId}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok || !res.body) throw new Error(`export → ${res.status}`);
  let newlines = 0;
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) newlines++;
  }
  const seconds = (performance.now() - t0) / 1000;
  sampling = false;
  await sampler;
  const rows = newlines - 1; // the header; demo messages hold no newlines
  return {
    rows,
    bytes,
    seconds,
    rowsPerS: rows / seconds,
    rssBeforeMb: before / 2 ** 20,
    rssPeakMb: peak / 2 ** 20,
    rssGrowthMb: (peak - before) / 2 ** 20,
  };
}

async function main(): Promise<void> {
  const target = await resolveTarget();
  say(`Faultline: ${target.url} (${target.kind}); ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  const ingestRequests = Number(flags['ingest-requests']);
  const db = await dbClient(target.databaseUrl);
  onCleanup(() => db.end());
  await partitionsForDemo(target.databaseUrl);
  const [{ n: before }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events`)).rows;
  const ingest: IngestFigure[] = [];
  if (before === 0) {
    say(`ingest into the empty events table: ${fmt.int(ingestRequests * 100)} logs…`);
    ingest.push(await ingestPhase(target.url, db, 'empty table', ingestRequests));
  } else say(`events table not empty (${fmt.int(before)} rows): no empty-table figure this run`);
  const projectId = await seed(target);
  const [{ n: full }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events`)).rows;
  say(`ingest with ${fmt.int(full)} rows in the events table…`);
  ingest.push(await ingestPhase(target.url, db, `${fmt.int(full)} rows`, ingestRequests));
  say('ingest during a retention run (oldest day dropped, then batched deletes)…');
  let retention: Awaited<ReturnType<typeof retentionRun>> | undefined;
  ingest.push(
    await ingestPhase(target.url, db, 'during retention', ingestRequests, async () => {
      retention = await retentionRun(target.databaseUrl, projectId);
    }),
  );
  const token = await login(target.url);
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
  const p = `project=${projectId}`;
  const scenarios: Array<[string, string]> = [
    ['list: first page', `/api/logs/?${p}`],
    ['list: every visible project', '/api/logs/'],
    ['filter: severity=ERROR', `/api/logs/?${p}&severity=ERROR`],
    ['filter: severity=WARNING,ERROR', `/api/logs/?${p}&severity=WARNING,ERROR`],
    ['filter: source', `/api/logs/?${p}&source=api_gateway`],
    ['filter: CRITICAL + source', `/api/logs/?${p}&severity=CRITICAL&source=api_gateway`],
    ['filter: env + last 24 h', `/api/logs/?${p}&env=staging&date_from=${encodeURIComponent(dayAgo)}`],
    ['search: "memory" (common)', `/api/logs/?${p}&search=memory`],
    ['search: "certificate" (rarer)', `/api/logs/?${p}&search=certificate`],
    ['search: field=source', `/api/logs/?${p}&search=gateway&field=source`],
    ['page 200 (offset 9,950)', `/api/logs/?${p}&page=200`],
    ['ordering=-severity', `/api/logs/?${p}&ordering=-severity`],
    ['seed 3: /api/event-logs/', `/api/event-logs/?${p}`],
    ['seed 3: /api/llm-logs/', `/api/llm-logs/?${p}`],
  ];
  const rows: Array<{ name: string; query: string; p50: number; p95: number; count: number }> = [];
  for (const [name, query] of scenarios) {
    const r = await timeQuery(target.url, token, query);
    rows.push({ name, query, ...r });
    say(`${name.padEnd(32)} p50 ${fmt.ms(r.p50)} ms   p95 ${fmt.ms(r.p95)} ms`);
  }
  say('export: every log of the project as CSV…');
  const exp = await timeExport(target.url, token, projectId);

  const filtered = rows.filter((r) => r.name.startsWith('filter') || r.name.startsWith('list'));
  const worstFilteredP95 = Math.max(...filtered.map((r) => r.p95));
  process.stdout.write(
    `\n${table([
      ['query (page_size 50)', 'count', 'p50 ms', 'p95 ms'],
      ...rows.map((r) => [r.name, fmt.int(r.count), fmt.ms(r.p50), fmt.ms(r.p95)]),
    ])}\n\n` +
      `CSV export: ${fmt.int(exp.rows)} rows, ${(exp.bytes / 2 ** 20).toFixed(1)} MiB in ${fmt.s(exp.seconds)} s = ${fmt.int(exp.rowsPerS)} rows/s; ` +
      `web RSS ${exp.rssBeforeMb.toFixed(0)} → peak ${exp.rssPeakMb.toFixed(0)} MiB (growth ${exp.rssGrowthMb.toFixed(0)} MiB)\n` +
      `Targets: filtered first page p95 ≤ 50 ms → worst ${fmt.ms(worstFilteredP95)} ms ${worstFilteredP95 <= 50 ? 'PASS' : 'MISS'}; ` +
      `export ≥ 50k rows/s ${exp.rowsPerS >= 50_000 ? 'PASS' : 'MISS'}, RSS growth < 100 MB ${exp.rssGrowthMb < 100 ? 'PASS' : 'MISS'}\n`,
  );
  const empty = ingest.find((f) => f.phase === 'empty table');
  const withRows = ingest.find((f) => f.phase.endsWith(' rows'))!;
  const during = ingest.find((f) => f.phase === 'during retention')!;
  const ratio = empty ? withRows.storedPerS / empty.storedPerS : NaN;
  process.stdout.write(
    `\n${table([
      ['ingest (batches of 100 logs)', 'logs', 'stored/s', 'HTTP p99 ms', 'store lag p99 ms'],
      ...ingest.map((f) => [f.phase, fmt.int(f.logs), fmt.int(f.storedPerS), fmt.ms(f.httpP99Ms), fmt.ms(f.storeP99Ms)]),
    ])}\n` +
      `Retention run: dropped ${retention?.dropped.join(', ') || 'nothing'} (${fmt.int(retention?.droppedRows ?? 0)} rows) in ${fmt.ms((retention?.dropSeconds ?? NaN) * 1000)} ms; ` +
      `${fmt.int(retention?.deleted ?? 0)} rows deleted in batches\n` +
      `Targets: stored/s with rows ≥ 0.9 × empty → ${empty ? ratio.toFixed(2) : 'n/a'} ${empty ? (ratio >= 0.9 ? 'PASS' : 'MISS') : ''}; ` +
      `drop one day < 1 s ${(retention?.dropSeconds ?? Infinity) < 1 ? 'PASS' : 'MISS'}; ` +
      `HTTP p99 during retention ≤ 2 × without → ${(during.httpP99Ms / withRows.httpP99Ms).toFixed(2)} ${during.httpP99Ms <= 2 * withRows.httpP99Ms ? 'PASS' : 'MISS'}; ` +
      `store lag p99 ratio ${(during.storeP99Ms / withRows.storeP99Ms).toFixed(2)}\n`,
  );
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  const file = path.join(root, 'bench/results', `logs-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        logs,
        repeat,
        target: target.kind,
        machine: { cpus: os.cpus().length, node: process.version },
        queries: rows,
        export: exp,
        ingest,
        retention,
      },
      null,
      2,
    ) + '\n',
  );
  say(`results: ${path.relative(root, file)}`);
}

try {
  await main();
} finally {
  await cleanup();
}

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import { registerUser } from '../accounts/users.ts';
import { createProject } from '../projects/projects.ts';
import { demoIds, demoLlmCall, demoLog, prng } from './demoRows.ts';

/**
 * `npm run demo-data`: the logs dashboard's demo users, a shared project they belong to, and as
 * many realistic logs as asked for — plus some error events and LLM calls. Rows go in
 * with COPY (one stream, backpressure end to end), so a million take a minute or two,
 * not an hour: the data set for the query benchmarks too.
 */
export const DEMO_USERS = [
  { email: 'admin@logsdashboard.com', first: 'Admin', role: 'owner', staff: true },
  { email: 'dev@logsdashboard.com', first: 'Developer', role: 'member', staff: false },
  { email: 'analyst@logsdashboard.com', first: 'Analyst', role: 'viewer', staff: false },
  { email: 'ops@logsdashboard.com', first: 'Operator', role: 'member', staff: false },
  { email: 'test@logsdashboard.com', first: 'Tester', role: 'viewer', staff: false },
] as const;
export const DEMO_PROJECT_SLUG = 'logs-dashboard-demo';

export interface DemoOptions {
  logs: number;
  users: number;
  clear: boolean;
  password: string;
  seed?: number;
  now?: Date;
}

export interface DemoResult {
  users: Array<{ email: string; role: string; created: boolean }>;
  projectId: number;
  logs: number;
  errors: number;
  llmLogs: number;
}

type Say = (msg: string) => void;

async function ensureUsers(ds: DataSource, o: DemoOptions) {
  const out: Array<{ id: number; email: string; role: string; created: boolean }> = [];
  for (const u of DEMO_USERS.slice(0, o.users)) {
    const [existing]: Array<{ id: number }> = await ds.query(`SELECT id FROM users WHERE email = $1`, [u.email]);
    if (existing) {
      out.push({ id: existing.id, email: u.email, role: u.role, created: false });
      continue;
    }
    const { user } = await registerUser(ds, {
      email: u.email,
      password: o.password,
      firstName: u.first,
      lastName: 'Demo',
      isStaff: u.staff,
    });
    out.push({ id: user.id, email: u.email, role: u.role, created: true });
  }
  return out;
}

async function ensureProject(ds: DataSource, users: Array<{ id: number; role: string }>): Promise<number> {
  const owner = users[0];
  const [found]: Array<{ id: number }> = await ds.query(`SELECT id FROM projects WHERE slug = $1`, [DEMO_PROJECT_SLUG]);
  const projectId =
    found?.id ??
    (await ds.transaction((em) => createProject(em, { ownerId: owner.id, name: 'Logs Dashboard Demo', slug: DEMO_PROJECT_SLUG }))).project
      .id;
  for (const u of users.slice(1)) {
    await ds.query(
      `INSERT INTO project_members (project_id, user_id, role, invited_by_id) VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, user_id) DO NOTHING`,
      [projectId, u.id, u.role, owner.id],
    );
  }
  return projectId;
}

async function copyRows(ds: DataSource, sql: string, rows: Iterable<unknown[]>): Promise<void> {
  const runner = ds.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  try {
    // quoted_empty: in COPY's CSV, "" is an empty string and a bare empty field is NULL.
    const csv = stringify({ quoted_empty: true, cast: { boolean: (b) => (b ? 'true' : 'false'), date: (d) => d.toISOString() } });
    await pipeline(Readable.from(rows, { objectMode: true }), csv, client.query(copyFrom(sql)));
  } finally {
    await runner.release();
  }
}

function* logRows(n: number, projectId: number, rand: () => number, now: number, kind: 'log' | 'error'): Generator<unknown[]> {
  const id = demoIds();
  for (let i = 0; i < n; i++) {
    const l = demoLog(rand, now, id(i));
    const level = kind === 'error' ? (rand() < 0.8 ? 'error' : 'critical') : l.level;
    const received = new Date(l.timestamp.getTime() + Math.floor(rand() * 2000));
    yield [
      projectId,
      l.event_id,
      kind,
      kind === 'error' ? 'exception' : null,
      l.timestamp,
      received,
      received,
      level,
      l.message,
      kind === 'error' ? 'RuntimeError' : null,
      kind === 'error' ? `Traceback (most recent call last):\n  File "app.py", line 42, in handle\nRuntimeError: ${l.message}` : null,
      l.environment,
      l.service,
      l.user_ref,
      '{}',
      JSON.stringify(l.extra),
      kind === 'error' ? 'panties' : 'logs',
    ];
  }
}

function* llmRows(n: number, projectId: number, rand: () => number, now: number): Generator<unknown[]> {
  const id = demoIds();
  for (let i = 0; i < n; i++) {
    const c = demoLlmCall(rand, now, id(i));
    yield [
      projectId,
      c.event_id,
      c.timestamp,
      c.timestamp,
      c.user_ref,
      c.source,
      c.model,
      c.query,
      c.response,
      c.prompt_tokens,
      c.completion_tokens,
      c.total_tokens,
      c.latency_ms,
      JSON.stringify(c.metadata),
    ];
  }
}

const EVENT_COPY = `COPY events (project_id, event_id, kind, event_type, "timestamp", received_at, updated_at, level, message,
  exception_type, stacktrace, environment, service, user_ref, tags, extra, origin) FROM STDIN WITH (FORMAT csv)`;
const LLM_COPY = `COPY llm_logs (project_id, event_id, "timestamp", received_at, user_ref, source, model, query, response,
  prompt_tokens, completion_tokens, total_tokens, latency_ms, metadata) FROM STDIN WITH (FORMAT csv)`;

export async function generateDemoData(ds: DataSource, o: DemoOptions, say: Say = () => undefined): Promise<DemoResult> {
  const emails = DEMO_USERS.map((u) => u.email);
  if (o.clear) {
    say('clearing earlier demo data…');
    // Their projects (and so their logs, events and LLM calls) and saved filters go with them.
    await ds.query(`DELETE FROM projects WHERE slug = $1 OR owner_id IN (SELECT id FROM users WHERE email = ANY($2))`, [
      DEMO_PROJECT_SLUG,
      emails,
    ]);
    await ds.query(`DELETE FROM users WHERE email = ANY($1)`, [emails]);
  }
  const users = await ensureUsers(ds, o);
  const projectId = await ensureProject(ds, users);
  const rand = prng(o.seed ?? 42);
  const now = (o.now ?? new Date()).getTime();
  const errors = Math.max(5, Math.round(o.logs * 0.02));
  const llm = Math.min(50_000, Math.max(10, Math.round(o.logs * 0.05)));

  const started = Date.now();
  say(`writing ${o.logs.toLocaleString('en-US')} logs…`);
  await copyRows(ds, EVENT_COPY, logRows(o.logs, projectId, rand, now, 'log'));
  say(`  ${Math.round(o.logs / ((Date.now() - started) / 1000 || 1)).toLocaleString('en-US')} rows/s`);
  say(`writing ${errors.toLocaleString('en-US')} error events and ${llm.toLocaleString('en-US')} LLM calls…`);
  await copyRows(ds, EVENT_COPY, logRows(errors, projectId, rand, now, 'error'));
  await copyRows(ds, LLM_COPY, llmRows(llm, projectId, rand, now));
  say('analyzing (fresh statistics and visibility map for the planner)…');
  await ds.query(`VACUUM (ANALYZE) events`);
  await ds.query(`VACUUM (ANALYZE) llm_logs`);
  return { users: users.map(({ email, role, created }) => ({ email, role, created })), projectId, logs: o.logs, errors, llmLogs: llm };
}

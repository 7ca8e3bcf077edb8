/**
 * Issue 16: scrubbing before storage. Real clients (@sentry/node in a child process with
 * sendDefaultPii, Debian's python3-sentry-sdk, seed 3's LLM log API, the OpenTelemetry
 * exporter), the real HTTP server and workers; every assertion on secrets reads the
 * database rows themselves.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { addMember } from './helpers/logs.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { allSucceeded, recording } from './helpers/otel.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';

const run = promisify(execFile);
const SENTRY_NODE = path.join(process.cwd(), 'node_modules/@sentry/node/build/esm/index.js');
let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
let dir: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-scrub-'));
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  rmSync(dir, { recursive: true, force: true });
});

const dsnOf = (u: TestUser) => `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${u.personal.id}`;
const as = (u: TestUser) => ({ Authorization: `Bearer ${u.access}` });
const rule = async (u: TestUser, body: Record<string, unknown>) => {
  const res = await stack.http.post(`/api/projects/${u.personal.id}/scrubbing-rules/`).set(as(u)).send(body);
  expect(res.status).toBe(201);
  return res.body as { id: number };
};
/** Every stored text of a project's events, as one string: what must not hold a secret. */
const eventRows = (u: TestUser) =>
  stack.web.ds.query(
    `SELECT e.*, i.title AS issue_title, i.fingerprint FROM events e LEFT JOIN issues i ON i.id = e.issue_id WHERE e.project_id = $1 ORDER BY e.id`,
    [u.personal.id],
  );
const dumpAll = (rows: unknown[]) => JSON.stringify(rows);
const marksOf = (rows: Array<{ scrubbed: Array<{ path: string; rule: string }> | null }>) => rows.flatMap((r) => r.scrubbed ?? []);

describe('@sentry/node with sendDefaultPii: headers, cookies, a password in a form body', () => {
  it('stores none of the secrets, hashes the email the same in both events, keeps them in one issue, and marks what it took', async () => {
    const u = await createUser(stack.web.ds);
    await rule(u, { kind: 'email', action: 'hash' });
    const file = path.join(dir, 'pii.mjs');
    writeFileSync(
      file,
      `import * as Sentry from ${JSON.stringify(SENTRY_NODE)};
// Dedupe would drop the second, identical exception.
Sentry.init({ dsn: ${JSON.stringify(dsnOf(u))}, sendDefaultPii: true, release: 'shop@1.0.0', integrations: (all) => all.filter((i) => i.name !== 'Dedupe') });
Sentry.setUser({ id: 'u-42', email: 'bob.customer@example.com' });
function login(n) {
  Sentry.withScope((scope) => {
    scope.setSDKProcessingMetadata({ normalizedRequest: {
      method: 'POST', url: 'https://shop.test/login?next=%2Fcart&token=tok_q7Zr9pLmX2wV',
      query_string: 'next=%2Fcart&token=tok_q7Zr9pLmX2wV',
      headers: { Authorization: 'Bearer sk_live_9fJ2kQ8vLp3mZx7R', Cookie: 'sessionid=sess_Y2h4bXd0; theme=dark', 'User-Agent': 'Mozilla/5.0', 'X-Api-Key': 'ak_8Hd73kLs0qP' },
      cookies: { sessionid: 'sess_Y2h4bXd0', theme: 'dark' },
      data: 'username=bob&password=Hunter2-Secret!&remember=1',
    } });
    scope.setExtra('payment', { card: '4111 1111 1111 1111', note: 'paid by card 5555 5555 5555 4444' });
    scope.setTag('attempt', String(n));
    Sentry.captureException(new Error('login failed'));
  });
}
// The same call site twice: the same stack, so the same issue.
for (const n of [1, 2]) login(n);
await Sentry.flush(5000);
`,
    );
    await run(process.execPath, [file], { timeout: 30_000 });
    const rows = await eventually(async () => {
      const r = await eventRows(u);
      return r.length === 2 ? r : null;
    });
    const stored = dumpAll(rows);
    for (const secret of [
      'tok_q7Zr9pLmX2wV',
      'sk_live_9fJ2kQ8vLp3mZx7R',
      'sess_Y2h4bXd0',
      'ak_8Hd73kLs0qP',
      'Hunter2-Secret!',
      '4111 1111 1111 1111',
      '5555 5555 5555 4444',
      'bob.customer@example.com',
    ])
      expect(stored).not.toContain(secret);
    // What is not secret stays.
    expect(stored).toContain('theme');
    expect(stored).toContain('Mozilla/5.0');
    expect(stored).toContain('username=bob');
    // One issue for both; the email hashed the same in both events.
    expect(new Set(rows.map((r: { issue_id: string }) => r.issue_id)).size).toBe(1);
    const emails = rows.map((r: { data: { user?: { email?: string } } }) => r.data.user?.email);
    expect(emails[0]).toMatch(/^\[hash:[0-9a-f]{16}\]$/);
    expect(emails[1]).toBe(emails[0]);
    // Marks: which field, which rule.
    const marks = marksOf(rows);
    expect(marks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'default:secret-key',
          path: expect.stringMatching(/^data\.request\.(headers\.(Authorization|Cookie|X-Api-Key)|cookies)/),
        }),
        expect.objectContaining({ rule: 'default:credit-card', path: 'extra.payment.note' }),
        expect.objectContaining({ rule: expect.stringMatching(/^email#\d+$/), path: 'data.user.email' }),
      ]),
    );
    expect(marks.some((m) => m.path.startsWith('data.request.data') || m.path.startsWith('data.request.body'))).toBe(true);
    // The API shows the marks too.
    const api = await stack.http.get(`/api/projects/${u.personal.id}/events/${rows[0].event_id}/`).set(as(u));
    expect(api.status).toBe(200);
    expect(api.body.scrubbed).toEqual(rows[0].scrubbed);
  });
});

describe('python3-sentry-sdk (Debian)', () => {
  it('a message with an AWS key, a secret in extra and a bearer token in a breadcrumb: none stored', async () => {
    const u = await createUser(stack.web.ds);
    const script = path.join(dir, 'pii.py');
    writeFileSync(
      script,
      `import sentry_sdk
sentry_sdk.init(dsn=${JSON.stringify(dsnOf(u))}, send_default_pii=True)
sentry_sdk.set_extra("db_password", "py-s3cret-pass")
sentry_sdk.set_extra("config", {"api_key": "py-api-key-123", "region": "eu-west-1"})
sentry_sdk.add_breadcrumb(category="http", message="GET /me Authorization: Bearer py.bearer.tokenvalue123")
sentry_sdk.capture_message("deploy used AKIAIOSFODNN7EXAMPLE with private_key=pk_live_777")
sentry_sdk.flush()
`,
    );
    await run('/usr/bin/python3', [script], { timeout: 30_000 });
    const rows = await eventually(async () => {
      const r = await eventRows(u);
      return r.length === 1 ? r : null;
    });
    const stored = dumpAll(rows);
    for (const secret of ['py-s3cret-pass', 'py-api-key-123', 'py.bearer.tokenvalue123', 'AKIAIOSFODNN7EXAMPLE', 'pk_live_777'])
      expect(stored).not.toContain(secret);
    expect(stored).toContain('eu-west-1');
    expect(rows[0].message).toBe('deploy used [Filtered] with private_key=[Filtered]');
    expect(marksOf(rows).map((m) => m.rule)).toEqual(
      expect.arrayContaining(['default:aws-access-key', 'default:secret-key', 'default:bearer-token']),
    );
  });
});

describe('grouping is decided before scrubbing', () => {
  it('messages that differ only in their secret stay two issues, as they would unscrubbed, and the issue titles lose the secret', async () => {
    const u = await createUser(stack.web.ds);
    const send = (message: string) =>
      stack.http
        .post('/api/events/')
        .set('Authorization', `Bearer ${u.apiKey}`)
        .send({ message, level: 'error', exception_type: 'AuthError' });
    // One at a time, each stored before the next, so the rows' order is the sending order.
    const messages = ['login refused: password=aaa-first', 'login refused: password=bbb-second', 'login refused: password=aaa-first'];
    let rows: Array<{ message: string; issue_id: string }> = [];
    for (const [i, m] of messages.entries()) {
      expect((await send(m)).status).toBeLessThan(300);
      rows = await eventually(async () => {
        const r = await eventRows(u);
        return r.length === i + 1 ? r : null;
      });
    }
    // Stored messages are the same text now; the issues are still the unscrubbed grouping's.
    expect(new Set(rows.map((r: { message: string }) => r.message))).toEqual(new Set(['login refused: password=[Filtered]']));
    expect(rows[0].issue_id).toBe(rows[2].issue_id);
    expect(rows[0].issue_id).not.toBe(rows[1].issue_id);
    const stored = dumpAll(rows);
    expect(stored).not.toContain('aaa-first');
    expect(stored).not.toContain('bbb-second');
  });
});

describe('seed 3 LLM logs', () => {
  it('an email and a card number in the prompt: masked, with a project rule for emails; the card by default', async () => {
    const u = await createUser(stack.web.ds);
    await rule(u, { kind: 'email', action: 'mask' });
    const res = await stack.http.post('/api/llm-log/').send({
      api_key: u.apiKey,
      query: 'My email is jane.doe@example.org and my card is 4242 4242 4242 4242, can you update billing?',
      response: 'Sure, I updated the card ending 4242 for jane.doe@example.org.',
      metadata: { model: 'gpt-4o-mini', customer: { session_token: 'llm-sess-abcdef' } },
    });
    expect(res.status).toBe(202);
    const rows = await eventually(async () => {
      const r = await stack.web.ds.query(`SELECT * FROM llm_logs WHERE project_id = $1`, [u.personal.id]);
      return r.length === 1 ? r : null;
    });
    const stored = dumpAll(rows);
    for (const secret of ['jane.doe@example.org', '4242 4242 4242 4242', 'llm-sess-abcdef']) expect(stored).not.toContain(secret);
    expect(rows[0].query).toBe('My email is **** and my card is [Filtered], can you update billing?');
    expect(marksOf(rows)).toEqual(
      expect.arrayContaining([
        { path: 'query', rule: 'default:credit-card' },
        { path: 'response', rule: expect.stringMatching(/^email#/) },
      ]),
    );
    const api = await stack.http.get(`/api/llm-logs/${rows[0].id}/`).set(as(u));
    expect(api.status).toBe(200);
    expect(api.body.scrubbed).toEqual(rows[0].scrubbed);
  });
});

describe('OTLP span attributes', () => {
  it('a token in an attribute and a JWT in a URL: not in the spans table', async () => {
    const u = await createUser(stack.web.ds);
    const { exporter, results } = recording(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers: { 'x-faultline-key': u.apiKey } }));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'api' }),
      spanProcessors: [new BatchSpanProcessor(exporter as unknown as SpanExporter)],
    });
    const tracer = provider.getTracer('t');
    const root = tracer.startSpan('GET /account', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.header.authorization': 'Bearer otel-bearer-0123456789',
        'app.auth_token': 'otel-token-zyx987',
        'url.full': 'https://api.test/account?jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZw',
        'http.route': '/account',
      },
    });
    tracer
      .startSpan(
        'SELECT users',
        { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql' } },
        trace.setSpan(context.active(), root),
      )
      .end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(allSucceeded(results)).toBe(true);
    const rows = await eventually(async () => {
      const r = await stack.web.ds.query(`SELECT * FROM spans WHERE project_id = $1`, [u.personal.id]);
      return r.length === 2 ? r : null;
    });
    const stored = dumpAll(rows);
    for (const secret of ['otel-bearer-0123456789', 'otel-token-zyx987', 'eyJzdWIiOiIxIn0']) expect(stored).not.toContain(secret);
    expect(stored).toContain('/account');
    expect(marksOf(rows)).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'attributes.app.auth_token', rule: 'default:secret-key' })]),
    );
  });
});

describe('rules: the API, try it', () => {
  it('try it shows what a payload becomes under saved and draft rules, and saves nothing', async () => {
    const u = await createUser(stack.web.ds);
    await rule(u, { kind: 'key', pattern: 'extra.customer.*', action: 'remove' });
    await rule(u, { kind: 'exempt', pattern: 'extra.debug_token' });
    const res = await stack.http
      .post(`/api/projects/${u.personal.id}/scrubbing-rules/test/`)
      .set(as(u))
      .send({
        payload: {
          message: 'call me at +1 213 373 4253, ip 198.51.100.7',
          extra: { customer: { name: 'Ann' }, debug_token: 'keep-me', password: 'x-pass' },
        },
        rules: [
          { kind: 'ip', action: 'hash' },
          { kind: 'phone', action: 'mask' },
        ],
      });
    expect(res.status).toBe(200);
    expect(res.body.payload.extra).toEqual({ customer: {}, debug_token: 'keep-me', password: '[Filtered]' });
    expect(res.body.payload.message).toMatch(/^call me at \*\*\*\*, ip \[hash:[0-9a-f]{16}\]$/);
    expect(res.body.scrubbed).toEqual(
      expect.arrayContaining([
        { path: 'extra.customer.name', rule: expect.stringMatching(/^key#\d+$/) },
        { path: 'extra.password', rule: 'default:secret-key' },
        { path: 'message', rule: 'ip#-1' },
        { path: 'message', rule: 'phone#-2' },
      ]),
    );
    const list = await stack.http.get(`/api/projects/${u.personal.id}/scrubbing-rules/`).set(as(u));
    expect(list.body.count).toBe(2);
  });

  it('what only looks like a secret is left alone: exception text, code lines, words that contain a secret word', async () => {
    const u = await createUser(stack.web.ds);
    const payload = {
      message: 'AuthError: login failed for bob',
      post_context: ['  if (!user) throw new AuthError()', '}'],
      note: 'inside = 5, author: ann, prompt_tokens: 12',
      usage: { prompt_tokens: 12, total_tokens: 20 },
    };
    const res = await stack.http.post(`/api/projects/${u.personal.id}/scrubbing-rules/test/`).set(as(u)).send({ payload });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ payload, scrubbed: [] });
  });

  it('a regex RE2 cannot compile, or a rule without its action, is a 400 and nothing is saved', async () => {
    const u = await createUser(stack.web.ds);
    const bad = await stack.http
      .post(`/api/projects/${u.personal.id}/scrubbing-rules/`)
      .set(as(u))
      .send({ kind: 'regex', pattern: '(a)\\1', action: 'mask' });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toHaveProperty('pattern');
    const noAction = await stack.http.post(`/api/projects/${u.personal.id}/scrubbing-rules/`).set(as(u)).send({ kind: 'email' });
    expect(noAction.status).toBe(400);
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM scrubbing_rules WHERE project_id = $1`, [u.personal.id]);
    expect(n).toBe(0);
  });

  it('a viewer and a member can read the rules but not change them', async () => {
    const owner = await createUser(stack.web.ds);
    const made = await rule(owner, { kind: 'email', action: 'mask' });
    for (const role of ['viewer', 'member'] as const) {
      const other = await createUser(stack.web.ds);
      await addMember(stack.web.ds, owner.personal.id, other.user.id, role);
      const rules = `/api/projects/${owner.personal.id}/scrubbing-rules/`;
      expect((await stack.http.get(rules).set(as(other))).status).toBe(200);
      expect((await stack.http.post(rules).set(as(other)).send({ kind: 'ip', action: 'mask' })).status).toBe(403);
      expect((await stack.http.patch(`${rules}${made.id}/`).set(as(other)).send({ enabled: false })).status).toBe(403);
      expect((await stack.http.delete(`${rules}${made.id}/`).set(as(other))).status).toBe(403);
    }
    const [row] = await stack.web.ds.query(`SELECT enabled FROM scrubbing_rules WHERE id = $1`, [made.id]);
    expect(row.enabled).toBe(true);
  });
});

describe('jobs keep no raw data', () => {
  it('an events job that fails for good stays in the failed set scrubbed', async () => {
    const u = await createUser(stack.web.ds);
    // A payload the contract refuses (no level, no event id) fails unrecoverably at once: it stays visible, scrubbed.
    const job = await stack.web.queues.events.add('store-events', {
      items: [
        {
          project_id: u.personal.id,
          message: 'login password=raw-secret-1 card 4111 1111 1111 1111',
          extra: { api_key: 'raw-key-2', region: 'eu' },
        },
      ],
    });
    const kept = await eventually(async () => {
      const j = await stack.web.queues.events.getJob(job.id!);
      return j && (await j.getState()) === 'failed' && !JSON.stringify(j.data).includes('raw-secret-1') ? j : null;
    });
    const data = JSON.stringify(kept.data);
    for (const secret of ['raw-secret-1', '4111 1111 1111 1111', 'raw-key-2']) expect(data).not.toContain(secret);
    expect(data).toContain('eu');
    expect(data).toContain('login password=[Filtered]');
  });
});

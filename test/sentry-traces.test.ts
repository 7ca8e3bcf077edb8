/**
 * Sentry tracing: @sentry/node 11 sends `span` items (span streaming, its default) and,
 * with traceLifecycle "static", `transaction` items. Both are stored as spans; its
 * gen_ai spans are also LLM logs; its errors and logs carry the trace id, so the trace
 * view joins them. An OTLP body sent to the envelope endpoint is refused, not dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as Sentry from '@sentry/node';
import { encodeRequest } from '../src/domain/ingest/formats/otlp/decode.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
});

const get = (u: TestUser, path: string) => stack.http.get(path).set('Authorization', `Bearer ${u.access}`);

/** A request handled under Sentry's tracing: an AI call, a caught exception and a log inside the server span. */
async function handled(u: TestUser, opts: Partial<Parameters<typeof Sentry.init>[0]> = {}): Promise<string> {
  const dsn = `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${u.personal.id}`;
  Sentry.init({
    dsn,
    tracesSampleRate: 1,
    defaultIntegrations: false,
    enableRuntimeChannelInjection: false,
    environment: 'production',
    release: 'shop@4.2.0',
    ...opts,
  });
  let traceId = '';
  try {
    await Sentry.startSpan({ name: 'GET /recommendations', op: 'http.server' }, async (span) => {
      traceId = span.spanContext().traceId;
      await Sentry.startSpan(
        {
          name: 'chat claude-3-5-haiku',
          op: 'gen_ai.chat',
          attributes: {
            'gen_ai.system': 'anthropic',
            'gen_ai.request.model': 'claude-3-5-haiku-20241022',
            'gen_ai.usage.input_tokens': 2000,
            'gen_ai.usage.output_tokens': 400,
            'gen_ai.request.messages': JSON.stringify([{ role: 'user', content: 'Suggest three books' }]),
            'gen_ai.response.text': 'Dune, Emma, Ubik',
          },
        },
        async () => undefined,
      );
      await Sentry.startSpan({ name: 'SELECT books', op: 'db.query' }, async () => undefined);
      try {
        throw new TypeError('ranking is undefined');
      } catch (err) {
        Sentry.captureException(err);
      }
      Sentry.logger.warn('slow recommendations', { ms: 812 });
    });
    expect(await Sentry.flush(5000)).toBe(true);
  } finally {
    await Sentry.close(2000);
  }
  return traceId;
}

describe('@sentry/node tracing', () => {
  it('span streaming (the default): spans stored, the AI span an LLM log, and the error and log on the same trace', async () => {
    const u = await createUser(stack.web.ds);
    const traceId = await handled(u);
    const body = await eventually(async () => {
      const r = await get(u, `/api/traces/${traceId}/`);
      return r.status === 200 &&
        r.body.counts.spans === 3 &&
        r.body.counts.errors === 1 &&
        r.body.counts.logs === 1 &&
        r.body.counts.llm_calls === 1
        ? r.body
        : null;
    });
    const [root, ...children] = body.spans;
    expect(root).toMatchObject({
      name: 'GET /recommendations',
      kind: 'server',
      depth: 0,
      origin: 'sentry',
      environment: 'production',
      service: 'shop',
      status_code: 'ok',
    });
    expect(children.map((s: { name: string; depth: number; kind: string }) => [s.name, s.depth, s.kind])).toEqual([
      ['chat claude-3-5-haiku', 1, 'client'],
      ['SELECT books', 1, 'client'],
    ]);
    expect(body.errors[0]).toMatchObject({ exception_type: 'TypeError', message: 'ranking is undefined', span_id: root.span_id });
    // The error links to its trace from the events too.
    const events = (await get(u, `/api/issues/${body.errors[0].issue}/events/`)).body;
    expect(events.results[0]).toMatchObject({ trace_id: traceId, span_id: root.span_id });
    expect(body.logs[0]).toMatchObject({ message: 'slow recommendations', severity: 'WARNING', span_id: root.span_id });
    expect(body.llm_calls[0]).toMatchObject({
      model: 'claude-3-5-haiku-20241022',
      source: 'anthropic',
      prompt_tokens: 2000,
      completion_tokens: 400,
      span_id: children[0].span_id,
    });
    expect(body.llm_calls[0].cost).toBeCloseTo((2000 * 0.8 + 400 * 4) / 1e6, 10);
    const [llm] = await stack.web.ds.query(`SELECT query, response, origin FROM llm_logs WHERE project_id = $1`, [u.personal.id]);
    expect(llm).toEqual({
      query: JSON.stringify([{ role: 'user', content: 'Suggest three books' }]),
      response: 'Dune, Emma, Ubik',
      origin: 'sentry',
    });
  });

  it('traceLifecycle "static": the transaction is stored as its spans', async () => {
    const u = await createUser(stack.web.ds);
    const traceId = await handled(u, { traceLifecycle: 'static' } as never);
    const spans = await eventually(async () => {
      const rows = await stack.web.ds.query(
        `SELECT name, parent_span_id, kind, duration_ms FROM spans WHERE project_id = $1 AND trace_id = $2 ORDER BY start_time`,
        [u.personal.id, traceId],
      );
      return rows.length === 3 ? rows : null;
    });
    expect(spans.map((s: { name: string }) => s.name)).toEqual(['GET /recommendations', 'chat claude-3-5-haiku', 'SELECT books']);
    expect(spans[0]).toMatchObject({ parent_span_id: null, kind: 'server' });
    await eventually(
      async () =>
        (await stack.web.ds.query(`SELECT 1 FROM llm_logs WHERE project_id = $1 AND trace_id = $2`, [u.personal.id, traceId])).length === 1,
    );
  });

  it('an OTLP export sent to the envelope endpoint is a 400 naming /v1/logs and /v1/traces, never a silent 200', async () => {
    const u = await createUser(stack.web.ds);
    const auth = { 'X-Sentry-Auth': `Sentry sentry_version=7, sentry_key=${u.apiKey}` };
    const json = await fetch(`${base}/api/${u.personal.id}/envelope/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...auth },
      body: JSON.stringify({ resourceLogs: [] }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ code: 'otlp_not_envelope', details: { logs: '/v1/logs', traces: '/v1/traces' } });
    const proto = await fetch(`${base}/api/${u.personal.id}/envelope/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-protobuf', ...auth },
      body: encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x' } }] }] }] }),
    });
    expect(proto.status).toBe(400);
  });
});

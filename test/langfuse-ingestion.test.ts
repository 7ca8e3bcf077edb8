/**
 * Langfuse's classic SDK (the `langfuse` npm package, v3) pointed at Faultline with
 * baseUrl and a key pair whose secret is a Faultline API key: POST /api/public/ingestion.
 * Generations become LLM logs with cost, traces and observations spans of one trace;
 * creates and updates merge, whatever the order and however they are batched.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Langfuse } from 'langfuse';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { drained } from './helpers/jobs.ts';

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

/** What the API answered, loosely typed: the assertions say what it holds. */
type Json = ReturnType<typeof JSON.parse>;
const basic = (secret: string, pub = 'pk-lf-anything') => `Basic ${Buffer.from(`${pub}:${secret}`).toString('base64')}`;

async function ingest(secret: string, batch: unknown[]) {
  const r = await fetch(`${base}/api/public/ingestion`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: basic(secret) },
    body: JSON.stringify({ batch, metadata: { sdk_name: 'test' } }),
  });
  return {
    status: r.status,
    body: (await r.json()) as Record<string, unknown> & { successes: unknown[]; errors: Array<Record<string, unknown>> },
  };
}

async function get(u: TestUser, path: string) {
  const r = await fetch(`${base}${path}`, { headers: { Authorization: `Bearer ${u.access}` } });
  return { status: r.status, body: (await r.json()) as Json };
}

const llmRows = (u: TestUser) => stack.web.ds.query(`SELECT * FROM llm_logs WHERE project_id = $1 ORDER BY "timestamp"`, [u.personal.id]);
const spanRows = (u: TestUser, traceId: string) =>
  stack.web.ds.query(`SELECT * FROM spans WHERE project_id = $1 AND trace_id = $2 ORDER BY start_time, name`, [u.personal.id, traceId]);

describe("Langfuse's classic SDK", () => {
  it('a trace with a generation (created, then ended with output and usage in a later batch) is one LLM log with cost, on its trace', async () => {
    const u = await createUser(stack.web.ds);
    const langfuse = new Langfuse({ publicKey: 'pk-lf-any', secretKey: u.apiKey, baseUrl: base, flushAt: 1000, fetchRetryCount: 0 });
    const trace = langfuse.trace({ name: 'answer-question', userId: 'user-7', sessionId: 's-1', tags: ['geo'], input: { q: 'capital?' } });
    const span = trace.span({ name: 'retrieve', input: 'capital of France' });
    span.end({ output: ['doc-1'] });
    const generation = span.generation({
      name: 'llm-call',
      model: 'gpt-4o-2024-08-06',
      modelParameters: { temperature: 0.2 },
      input: [{ role: 'user', content: 'What is the capital of France?' }],
      startTime: new Date(Date.now() - 1500),
    });
    await langfuse.flushAsync(); // the create goes alone…
    const early = await eventually(async () => {
      const rows = await llmRows(u);
      return rows.length === 1 ? rows[0] : null;
    });
    expect(early).toMatchObject({ model: 'gpt-4o-2024-08-06', response: '', prompt_tokens: null, cost: null });

    generation.end({ output: { role: 'assistant', content: 'Paris.' }, usage: { input: 1000, output: 500 } });
    trace.update({ output: 'Paris.' });
    await langfuse.flushAsync(); // …the update in a batch of its own
    await langfuse.shutdownAsync();

    const log = await eventually(async () => {
      const rows = await llmRows(u);
      return rows.length === 1 && rows[0].completion_tokens === 500 ? rows[0] : null;
    });
    const traceId = trace.id.replaceAll('-', '');
    expect(log).toMatchObject({
      event_id: `lf:${generation.id}`,
      model: 'gpt-4o-2024-08-06',
      prompt_tokens: 1000,
      completion_tokens: 500,
      total_tokens: 1500,
      trace_id: traceId,
      origin: 'langfuse',
      error: null,
    });
    expect(JSON.parse(log.query)).toEqual([{ role: 'user', content: 'What is the capital of France?' }]);
    expect(JSON.parse(log.response)).toEqual({ role: 'assistant', content: 'Paris.' });
    expect(log.latency_ms).toBeGreaterThanOrEqual(1400); // from the create's startTime to the update's endTime
    expect(log.cost).toBeCloseTo((1000 * 2.5 + 500 * 10) / 1e6, 10);
    expect(log.metadata).toMatchObject({ model_parameters: { temperature: 0.2 }, observation_id: generation.id });

    // The seed 3 list shows it with its cost.
    const listed = await get(u, '/api/llm-logs/');
    expect(listed.status).toBe(200);
    const results = (listed.body.results ?? listed.body) as Array<Record<string, unknown>>;
    expect(results).toHaveLength(1);
    expect(results[0].cost).toBeCloseTo(0.0075, 10);

    // The trace view finds it by the id the SDK knows (a UUID): root span, span, generation, LLM call.
    const view = await eventually(async () => {
      const r = await get(u, `/api/traces/${trace.id}/`);
      return r.status === 200 && r.body.spans.length === 3 && r.body.llm_calls.length === 1 ? r.body : null;
    });
    const byName = Object.fromEntries(view.spans.map((s: { name: string }) => [s.name, s]));
    expect(byName['answer-question'].parent_span_id).toBeNull();
    expect(byName['answer-question'].attributes).toMatchObject({
      'langfuse.trace.id': trace.id,
      'langfuse.user.id': 'user-7',
      // A key named "session" is a secret under the default scrubbing rules (README "Data scrubbing").
      'langfuse.session.id': '[Filtered]',
      'langfuse.trace.output': 'Paris.',
    });
    expect(byName.retrieve.parent_span_id).toBe(byName['answer-question'].span_id);
    expect(byName['llm-call'].parent_span_id).toBe(byName.retrieve.span_id);
    expect(byName['llm-call'].duration_ms).toBeGreaterThanOrEqual(1400);
    expect(view.llm_calls[0]).toMatchObject({ span_id: byName['llm-call'].span_id, model: 'gpt-4o-2024-08-06', prompt_tokens: 1000 });
    expect(view.llm_calls[0].cost).toBeCloseTo(0.0075, 10);
  });

  it('an update that arrives before its create, and a retried batch, still make one row each with the merged values', async () => {
    const u = await createUser(stack.web.ds);
    const traceId = randomUUID();
    const genId = `gen-${randomUUID()}`;
    const t0 = Date.now() - 10_000;
    const at = (ms: number) => new Date(t0 + ms).toISOString();
    const update = {
      id: randomUUID(),
      type: 'generation-update',
      timestamp: at(2000),
      body: {
        id: genId,
        traceId,
        endTime: at(2000),
        output: 'pong',
        usage: { promptTokens: 10, completionTokens: 2, totalTokens: 12 },
        level: 'ERROR',
        statusMessage: 'cut short',
      },
    };
    const create = {
      id: randomUUID(),
      type: 'generation-create',
      timestamp: at(0),
      body: { id: genId, traceId, name: 'ping', startTime: at(0), model: 'my-model', input: 'ping', usage: { totalCost: 0.25 } },
    };
    const first = await ingest(u.apiKey, [update]);
    expect(first).toEqual({ status: 207, body: { successes: [{ id: update.id, status: 201 }], errors: [] } });
    await eventually(async () => (await llmRows(u)).length === 1);
    expect((await ingest(u.apiKey, [create])).status).toBe(207);
    expect((await ingest(u.apiKey, [create, update])).status).toBe(207); // a client retry of both
    const log = await eventually(async () => {
      const rows = await llmRows(u);
      return rows.length === 1 && rows[0].model === 'my-model' ? rows[0] : null;
    });
    // Wait for the retried job too: the row must not change.
    await drained(stack.web.queues, ['events']);
    const [again] = await llmRows(u);
    for (const row of [log, again]) {
      expect(row).toMatchObject({
        model: 'my-model',
        query: 'ping',
        response: 'pong',
        prompt_tokens: 10,
        completion_tokens: 2,
        total_tokens: 12,
        latency_ms: 2000,
        error: 'cut short',
        cost: 0.25, // the client's cost wins over the price table
      });
      expect(new Date(row.timestamp).toISOString()).toBe(at(0));
    }
    const spans = await spanRows(u, traceId.replaceAll('-', ''));
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ name: 'ping', status_code: 'error', status_message: 'cut short', duration_ms: 2000 });
  });

  it('a score lands on the span it scores; sdk-log events are taken and dropped; a session score is accepted and counted as dropped', async () => {
    const u = await createUser(stack.web.ds);
    const traceId = randomUUID();
    const ts = new Date().toISOString();
    const events = [
      { id: 'e1', type: 'trace-create', timestamp: ts, body: { id: traceId, name: 'scored' } },
      { id: 'e2', type: 'score-create', timestamp: ts, body: { id: 's1', traceId, name: 'helpfulness', value: 0.9 } },
      { id: 'e3', type: 'score-create', timestamp: ts, body: { id: 's2', sessionId: 'sess', name: 'overall', value: 1 } },
      { id: 'e4', type: 'sdk-log', timestamp: ts, body: { log: 'hello' } },
    ];
    const r = await ingest(u.apiKey, events);
    expect(r.status).toBe(207);
    expect(r.body.successes).toEqual([
      { id: 'e1', status: 201 },
      { id: 'e2', status: 201 },
      { id: 'e3', status: 201 },
    ]);
    const [root] = await eventually(async () => {
      const rows = await spanRows(u, traceId.replaceAll('-', ''));
      return rows.length === 1 && rows[0].attributes['langfuse.score.helpfulness'] !== undefined && rows[0].name === 'scored' ? rows : null;
    });
    expect(root.attributes['langfuse.score.helpfulness']).toBe(0.9);
    expect(root.attributes['langfuse.score_only']).toBeUndefined();

    // A later score (and a new value of the same name) changes the attributes only: not the name, nor the times.
    const later = new Date(Date.now() + 60_000).toISOString();
    const rescore = await ingest(u.apiKey, [
      { id: 'e5', type: 'score-create', timestamp: later, body: { id: 's3', traceId, name: 'helpfulness', value: 0.4, comment: 'meh' } },
    ]);
    expect(rescore.body.errors).toEqual([]);
    const [after] = await eventually(async () => {
      const rows = await spanRows(u, traceId.replaceAll('-', ''));
      return rows[0]?.attributes['langfuse.score.helpfulness'] === 0.4 ? rows : null;
    });
    expect(after).toMatchObject({ name: 'scored', duration_ms: 0 });
    expect(after.attributes['langfuse.score.helpfulness.comment']).toBe('meh');
    expect(new Date(after.start_time).toISOString()).toBe(ts);
  });
});

describe('bad batches', () => {
  it('invalid events are refused one by one (400 entries in the 207) and nothing of them is stored; the valid ones are', async () => {
    const u = await createUser(stack.web.ds);
    const traceId = randomUUID();
    const ts = new Date().toISOString();
    const r = await ingest(u.apiKey, [
      { id: 'ok', type: 'generation-create', timestamp: ts, body: { id: 'g-ok', traceId, model: 'm', input: 'x' } },
      { id: 'no-such-type', type: 'trace-delete', timestamp: ts, body: { id: traceId } },
      { type: 'generation-create', timestamp: ts, body: { id: 'g-no-envelope-id', traceId } },
      { id: 'wrong-types', type: 'generation-create', timestamp: ts, body: { id: 'g-bad', traceId, usage: { input: 'ten' } } },
      { id: 'no-body-id', type: 'span-update', timestamp: ts, body: { traceId } },
      { id: 'bad-time', type: 'span-create', timestamp: 'yesterday', body: { id: 'sp', traceId } },
      'not an event',
    ]);
    expect(r.status).toBe(207);
    expect(r.body.successes).toEqual([{ id: 'ok', status: 201 }]);
    expect(r.body.errors.map((e) => e.id)).toEqual(['no-such-type', 'unknown', 'wrong-types', 'no-body-id', 'bad-time', 'unknown']);
    for (const e of r.body.errors) expect(e).toMatchObject({ status: 400, message: 'Invalid request data', error: expect.any(String) });
    await eventually(async () => (await llmRows(u)).length === 1);
    const spans = await stack.web.ds.query(`SELECT name, attributes->>'langfuse.observation.id' AS id FROM spans WHERE project_id = $1`, [
      u.personal.id,
    ]);
    expect(spans.map((s: { id: string }) => s.id)).toEqual(['g-ok']);
    expect((await llmRows(u)).map((l: { event_id: string }) => l.event_id)).toEqual(['lf:g-ok']);
  });

  it('a body that is no batch is 400 as Langfuse answers it; so is malformed JSON', async () => {
    const u = await createUser(stack.web.ds);
    for (const body of ['{"events":[]}', '{"batch":{}}', '{"batch":']) {
      const r = await fetch(`${base}/api/public/ingestion`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: basic(u.apiKey) },
        body,
      });
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: 'InvalidRequestError', message: expect.any(String) });
    }
  });

  it("no key, a secret that is no Faultline key, and a revoked key are 401 in Langfuse's shape", async () => {
    const u = await createUser(stack.web.ds);
    const none = await fetch(`${base}/api/public/ingestion`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"batch":[]}',
    });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'UnauthorizedError', message: expect.any(String) });
    const wrong = await ingest('sk-lf-not-a-key', []);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('UnauthorizedError');
    await stack.web.ds.query(`UPDATE api_keys SET revoked_at = now() WHERE project_id = $1`, [u.personal.id]);
    await eventually(async () => (await ingest(u.apiKey, [])).status === 401);
  });

  it('the SDK flushes without an error event when everything is taken', async () => {
    const u = await createUser(stack.web.ds);
    const langfuse = new Langfuse({ publicKey: 'pk', secretKey: u.apiKey, baseUrl: base, fetchRetryCount: 0 });
    const errors: unknown[] = [];
    langfuse.on('error', (e) => errors.push(e));
    langfuse.generation({ name: 'ok', model: 'gpt-4o-2024-08-06', traceId: randomUUID() });
    await langfuse.shutdownAsync();
    await eventually(async () => (await llmRows(u)).length === 1);
    expect(errors).toEqual([]);
  });
});

describe("the rest of Langfuse's public API", () => {
  it('health answers OK without a key; prompt management is a clear 501', async () => {
    const health = await fetch(`${base}/api/public/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'OK' });
    const u = await createUser(stack.web.ds);
    const langfuse = new Langfuse({ publicKey: 'pk', secretKey: u.apiKey, baseUrl: base, fetchRetryCount: 0 });
    await expect(langfuse.getPrompt('greeting', undefined, { maxRetries: 0 })).rejects.toThrow(/501|not served/);
    const fallback = await langfuse.getPrompt('greeting', undefined, { fallback: 'Hello {{name}}', maxRetries: 0 });
    expect(fallback.compile({ name: 'Ada' })).toBe('Hello Ada');
    await langfuse.shutdownAsync();
    const r = await fetch(`${base}/api/public/v2/prompts/greeting`, { headers: { Authorization: basic(u.apiKey) } });
    expect(r.status).toBe(501);
    expect(await r.json()).toMatchObject({ error: 'NotImplementedError', code: 'langfuse_api_not_supported' });
  });
});

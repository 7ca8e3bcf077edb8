/**
 * Cost on every LLM log (seed 3's and OTLP's alike), from the built-in price table or an
 * override set through the API; usage stats by model and day. Real HTTP, workers, PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectError } from './helpers/errors.ts';

process.env.LLM_PRICES_CACHE_TTL_MS = '0'; // an override applies to the next stored call
const { eventually, startWeb, startWorker } = await import('./helpers/stack.ts');
const { createUser, inviteAndAccept } = await import('./helpers/factories.ts');
type TestUser = Awaited<ReturnType<typeof createUser>>;

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: Awaited<ReturnType<typeof startWorker>>;
beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
});

const as = (u: TestUser) => ({ Authorization: `Bearer ${u.access}` });
const llmLog = (u: TestUser, metadata: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  stack.http
    .post('/api/llm-log/')
    .send({ api_key: u.apiKey, user_id: 'u1', source: 'app', query: 'Q?', response: 'A.', metadata, ...extra })
    .expect(202);
async function logsOf(u: TestUser, n: number) {
  return eventually(async () => {
    const b = (await stack.http.get(`/api/llm-logs/?project=${u.personal.id}`).set(as(u))).body;
    return b.count === n ? b.results : null;
  });
}

describe('cost', () => {
  it("seed 3's LLM logs get a cost from the built-in prices, and the seed 3 list shows it beside its own fields", async () => {
    const u = await createUser(stack.web.ds);
    await llmLog(u, { model: 'gpt-4o-2024-08-06', prompt_tokens: 1000, completion_tokens: 500 });
    await llmLog(u, { model: 'my-own-finetune', prompt_tokens: 10, completion_tokens: 5 });
    await llmLog(u, { model: 'gpt-4o', tokens: 15 }); // a total alone: no split, no cost
    const logs = await logsOf(u, 3);
    const byModel = Object.fromEntries(logs.map((l: { model: string }) => [l.model, l]));
    expect(byModel['gpt-4o-2024-08-06']).toMatchObject({
      user_id: 'u1',
      source: 'app',
      query: 'Q?',
      response: 'A.',
      prompt_tokens: 1000,
      completion_tokens: 500,
    });
    expect(byModel['gpt-4o-2024-08-06'].cost).toBeCloseTo((1000 * 2.5 + 500 * 10) / 1e6, 10);
    expect(byModel['my-own-finetune'].cost).toBeNull();
    expect(byModel['gpt-4o'].cost).toBeNull();
  });

  it('a project override (admin and up) applies to the calls stored after it; viewers may not set one, strangers do not see the project', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    await inviteAndAccept(stack.http, owner.personal.id, owner.access, viewer, 'viewer');
    const body = {
      project: owner.personal.id,
      model: 'gpt-4o*',
      input_per_million: 1,
      output_per_million: 2,
      cached_input_per_million: 0.5,
    };
    expect((await stack.http.post('/api/llm-prices/').set(as(viewer)).send(body)).status).toBe(403);
    expect((await stack.http.post('/api/llm-prices/').set(as(stranger)).send(body)).status).toBe(404);
    expect(
      (
        await stack.http
          .post('/api/llm-prices/')
          .set(as(owner))
          .send({ ...body, project: null })
      ).status,
    ).toBe(403); // instance-wide: staff
    const created = await stack.http.post('/api/llm-prices/').set(as(owner)).send(body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ model: 'gpt-4o*', project: owner.personal.id, source: 'project', input_per_million: 1 });
    expect(
      (
        await stack.http
          .post('/api/llm-prices/')
          .set(as(owner))
          .send({ ...body, model: 'GPT-4O*' })
      ).status,
    ).toBe(409);

    const resolved = (await stack.http.get(`/api/llm-prices/?project=${owner.personal.id}&model=gpt-4o-mini`).set(as(viewer))).body;
    expect(resolved.results).toEqual([expect.objectContaining({ model: 'gpt-4o*', source: 'project' })]);
    const elsewhere = (await stack.http.get(`/api/llm-prices/?model=gpt-4o-mini`).set(as(owner))).body;
    expect(elsewhere.results).toEqual([expect.objectContaining({ model: 'gpt-4o-mini*', source: 'default', id: null })]);
    expect((await stack.http.get(`/api/llm-prices/?project=${owner.personal.id}`).set(as(stranger))).status).toBe(404);

    await llmLog(owner, { model: 'gpt-4o-mini', prompt_tokens: 1_000_000, completion_tokens: 1_000_000, usage: {} });
    const [log] = await logsOf(owner, 1);
    expect(log.cost).toBeCloseTo(3, 10);

    // Changed, then removed: the defaults apply again.
    const patched = await stack.http.patch(`/api/llm-prices/${created.body.id}/`).set(as(owner)).send({ output_per_million: 4 });
    expect(patched.body).toMatchObject({ output_per_million: 4, input_per_million: 1 });
    expect((await stack.http.patch(`/api/llm-prices/${created.body.id}/`).set(as(viewer)).send({ output_per_million: 0 })).status).toBe(
      403,
    );
    expect((await stack.http.delete(`/api/llm-prices/${created.body.id}/`).set(as(stranger))).status).toBe(404);
    expect((await stack.http.delete(`/api/llm-prices/${created.body.id}/`).set(as(owner))).status).toBe(204);
    await llmLog(owner, { model: 'gpt-4o-mini', prompt_tokens: 1_000_000, completion_tokens: 0 });
    const logs = await logsOf(owner, 2);
    expect(logs.map((l: { cost: number }) => l.cost).sort()).toEqual([0.15, 3]);
  });

  it('staff set instance-wide prices, which every project without its own gets', async () => {
    const staff = await createUser(stack.web.ds, { isStaff: true });
    const u = await createUser(stack.web.ds);
    const created = await stack.http
      .post('/api/llm-prices/')
      .set(as(staff))
      .send({ model: 'house-model-*', input_per_million: 10, output_per_million: 20 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ project: null, source: 'instance' });
    await llmLog(u, { model: 'house-model-7b', prompt_tokens: 100_000, completion_tokens: 100_000 });
    const [log] = await logsOf(u, 1);
    expect(log.cost).toBeCloseTo(3, 10);
    expect((await stack.http.delete(`/api/llm-prices/${created.body.id}/`).set(as(u))).status).toBe(403);
    expect((await stack.http.delete(`/api/llm-prices/${created.body.id}/`).set(as(staff))).status).toBe(204);
  });
});

describe('GET /api/llm-logs/stats/', () => {
  it('answers calls, tokens, cost, error share and latency percentiles by model and by day', async () => {
    const u = await createUser(stack.web.ds);
    const day = (d: string, i: number) => `${d}T1${i}:00:00Z`;
    for (let i = 0; i < 4; i++)
      await llmLog(
        u,
        { model: 'gpt-4o', prompt_tokens: 100, completion_tokens: 10, latency_ms: (i + 1) * 100 },
        { timestamp: day('2025-03-01', i) },
      );
    await llmLog(
      u,
      { model: 'claude-3-5-sonnet-latest', prompt_tokens: 1000, completion_tokens: 100, latency_ms: 900 },
      { timestamp: day('2025-03-02', 0) },
    );
    await logsOf(u, 5);
    // An error share needs failed calls: one of the gpt-4o ones failed.
    await stack.web.ds.query(`UPDATE llm_logs SET error = 'timeout' WHERE project_id = $1 AND latency_ms = 400`, [u.personal.id]);

    const r = await stack.http.get(`/api/llm-logs/stats/?project=${u.personal.id}&date_from=2025-03-01&date_to=2025-03-02`).set(as(u));
    expect(r.status).toBe(200);
    const gpt = r.body.by_model.find((m: { model: string }) => m.model === 'gpt-4o');
    expect(gpt).toMatchObject({
      calls: 4,
      prompt_tokens: 400,
      completion_tokens: 40,
      total_tokens: 440,
      errors: 1,
      error_share: 0.25,
      unpriced_calls: 0,
      latency_p50_ms: 250,
    });
    expect(gpt.cost).toBeCloseTo((400 * 2.5 + 40 * 10) / 1e6, 8);
    expect(gpt.latency_p95_ms).toBeCloseTo(385, 6);
    expect(r.body.by_day.map((d: { date: string; model: string; calls: number }) => [d.date, d.model, d.calls])).toEqual([
      ['2025-03-02', 'claude-3-5-sonnet-latest', 1],
      ['2025-03-01', 'gpt-4o', 4],
    ]);
    const narrower = await stack.http
      .get(`/api/llm-logs/stats/?project=${u.personal.id}&date_from=2025-03-02&date_to=2025-03-02`)
      .set(as(u));
    expect(narrower.body.by_model.map((m: { model: string }) => m.model)).toEqual(['claude-3-5-sonnet-latest']);

    const stranger = await createUser(stack.web.ds);
    expect((await stack.http.get(`/api/llm-logs/stats/?project=${u.personal.id}`).set(as(stranger))).status).toBe(404);
    expectError(await stack.http.get(`/api/llm-logs/stats/?date_from=2020-01-01&date_to=2025-01-01`).set(as(u)), 400, 'invalid_request');
  });
});

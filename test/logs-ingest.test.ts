/**
 * Ingest of logs and LLM logs: seed 3's API-key routes (lean path) and seed 2/5's
 * JWT route, through the real queue and worker.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import { dataideaLlmToRecord, DataideaLlmLogSchema } from '../src/domain/ingest/formats/dataidea.ts';
import { logger } from '../src/logger.ts';
import { storeLlmLogsProcessor } from '../src/workers/storeLlmLogs.ts';
import { validated } from '../src/workers/index.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { addMember, countLlmLogs, countLogs, seed2Log } from './helpers/logs.ts';
import { eventually, jobsAdded, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let alice: TestUser;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  alice = await createUser(stack.web.ds);
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
});

// Jobs ever added: completed jobs are removed, so counting the jobs kept could go down meanwhile.
const totalJobs = () => jobsAdded(stack.web, 'events');

describe('POST /api/event-log/ (seed 3)', () => {
  it('accepts the README example with the key in the body and stores it as a log', async () => {
    const payload = {
      api_key: alice.apiKey,
      user_id: 'user123',
      message: 'User successfully logged in',
      level: 'info',
      metadata: { ip_address: '192.168.1.1', browser: 'Chrome', session_id: 'abc123' },
    };
    const res = await stack.http.post('/api/event-log/').set('Content-Type', 'application/json').send(JSON.stringify(payload));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'success', event_id: expect.stringMatching(/^[0-9a-f]{32}$/) }); // seed 3's "status" kept

    await eventually(async () => (await countLogs(stack.web.ds, alice.personal.id)) === 1);
    const [row] = await stack.web.ds.query(`SELECT kind, origin, level, message, user_ref, extra FROM events WHERE event_id = $1`, [
      res.body.event_id,
    ]);
    expect(row).toEqual({
      kind: 'log',
      origin: 'dataidea',
      level: 'info',
      message: 'User successfully logged in',
      user_ref: 'user123',
      extra: { ...payload.metadata, session_id: '[Filtered]' },
    });

    const list = await stack.http.get('/api/event-logs/').set('Authorization', `Bearer ${alice.access}`);
    expect(list.status).toBe(200);
    expect(list.body.results[0]).toEqual({
      id: expect.any(Number),
      user_id: 'user123',
      message: 'User successfully logged in',
      level: 'info',
      metadata: { ...payload.metadata, session_id: '[Filtered]' },
      timestamp: expect.any(String),
      project: alice.personal.id,
    });
  });

  it('takes the key from Authorization: Bearer, never stores it, and answers an array for a batch', async () => {
    const u = await createUser(stack.web.ds);
    const batch = [
      { user_id: 7, message: 'one', level: 'WARNING' },
      { message: 'two', level: 'debug', event_id: 'client-2', extra_field: 'kept' },
    ];
    const res = await stack.http.post('/api/event-log').set('Authorization', `Bearer ${u.apiKey}`).send(batch);
    expect(res.status).toBe(202);
    expect(res.body).toHaveLength(2);
    expect(res.body[1]).toEqual({ status: 'success', event_id: 'client-2' });
    await eventually(async () => (await countLogs(stack.web.ds, u.personal.id)) === 2);
    const rows = await stack.web.ds.query(`SELECT message, level, user_ref, extra FROM events WHERE project_id = $1 ORDER BY message`, [
      u.personal.id,
    ]);
    expect(rows).toEqual([
      { message: 'one', level: 'warning', user_ref: '7', extra: {} },
      { message: 'two', level: 'debug', user_ref: null, extra: { extra_field: 'kept' } },
    ]);
    const keyed = await stack.http.post('/api/event-log/').send({ api_key: u.apiKey, message: 'x' });
    expect(keyed.status).toBe(202);
    await eventually(async () => (await countLogs(stack.web.ds, u.personal.id)) === 3);
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND extra ? 'api_key'`, [
      u.personal.id,
    ]);
    expect(n).toBe(0);
  });

  it('refuses a bad key (401), a missing key (401), an invalid item (400), and queues nothing', async () => {
    const before = await totalJobs();
    const bad = await stack.http.post('/api/event-log/').send({ api_key: 'flk_nope00000000000000000000000000', message: 'x' });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('invalid_api_key');
    const missing = await stack.http.post('/api/event-log/').send({ message: 'x' });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('authentication_required');
    const invalid = await stack.http.post('/api/event-log/').send([
      { api_key: alice.apiKey, message: 'ok' },
      { api_key: alice.apiKey, message: 'x', level: 'loud' },
    ]);
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'validation_error', details: [expect.objectContaining({ path: '1.level' })] });
    const noMessage = await stack.http.post('/api/event-log/').send({ api_key: alice.apiKey, level: 'info' });
    expectError(noMessage, 400, 'validation_error');
    expect(await totalJobs()).toBe(before);
  });
});

describe('POST /api/llm-log/ (seed 3)', () => {
  it('stores the README example and lifts model, tokens and latency out of metadata', async () => {
    const u = await createUser(stack.web.ds);
    const payload = {
      api_key: u.apiKey,
      user_id: 'user123',
      source: 'gpt-4',
      query: 'What is the capital of France?',
      response: 'The capital of France is Paris.',
      metadata: { tokens: 15, model_version: 'gpt-4-0613', session_id: 'abc123', latency_ms: 250 },
    };
    const res = await stack.http.post('/api/llm-log/').send(payload);
    expect(res.status).toBe(202);
    await eventually(async () => (await countLlmLogs(stack.web.ds, u.personal.id)) === 1);
    const list = await stack.http.get('/api/llm-logs/').set('Authorization', `Bearer ${u.access}`);
    expect(list.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.body.results[0]).toEqual({
      id: expect.any(Number),
      user_id: 'user123',
      source: 'gpt-4',
      query: payload.query,
      response: payload.response,
      // session_id is secret-looking: the worker filtered it (README "Data scrubbing") and says so.
      metadata: { ...payload.metadata, session_id: '[Filtered]' },
      timestamp: expect.any(String),
      model: 'gpt-4-0613',
      prompt_tokens: null,
      completion_tokens: null,
      total_tokens: 15,
      latency_ms: 250,
      project: u.personal.id,
      // Added to seed 3's shape (issue 14): a total alone does not say how much was input, so no cost.
      cost: null,
      cached_tokens: null,
      error: null,
      scrubbed: [{ path: 'metadata.session_id', rule: 'default:secret-key' }],
      trace_id: null,
    });
  });

  it('accepts a prompt near 1 MB and refuses one over it with 413, naming the field', async () => {
    const u = await createUser(stack.web.ds);
    const big = 'q'.repeat(1024 * 1024 - 10);
    const ok = await stack.http
      .post('/api/llm-log/')
      .send({ api_key: u.apiKey, query: big, response: big, metadata: { model: 'm', prompt_tokens: 3, completion_tokens: 4 } });
    expect(ok.status).toBe(202);
    const tooBig = await stack.http.post('/api/llm-log/').send({ api_key: u.apiKey, query: 'x', response: 'r'.repeat(1024 * 1024 + 1) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.details).toMatchObject({ path: 'response' });
    await eventually(async () => (await countLlmLogs(stack.web.ds, u.personal.id)) === 1);
    const [row] = await stack.web.ds.query(
      `SELECT length(query) AS q, model, prompt_tokens, completion_tokens, total_tokens FROM llm_logs WHERE project_id = $1`,
      [u.personal.id],
    );
    expect(row).toEqual({ q: big.length, model: 'm', prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  });

  it('store-llm-logs is idempotent: a re-delivered job inserts nothing the second time', async () => {
    const u = await createUser(stack.web.ds);
    const received = new Date().toISOString();
    const items = ['a', 'b'].map((q) =>
      dataideaLlmToRecord(DataideaLlmLogSchema.parse({ query: q, response: 'r' }), u.personal.id, received),
    );
    const run = storeLlmLogsProcessor(stack.web.ds, logger);
    const job = { id: 'llm', data: { items } } as unknown as Job;
    expect(await run(job)).toEqual({ inserted: 2, duplicates: 0 });
    expect(await run(job)).toEqual({ inserted: 0, duplicates: 2 });
    expect(await countLlmLogs(stack.web.ds, u.personal.id)).toBe(2);
    // A payload off the contract never reaches the processor: the worker's dispatch refuses it.
    expect(() => validated({ id: 'bad', name: 'store-llm-logs', data: { items: [{ nope: 1 }] } } as unknown as Job)).toThrow(
      expect.objectContaining({ name: 'UnrecoverableError', message: expect.stringContaining('invalid store-llm-logs payload') }),
    );
  });
});

describe('POST /api/logs/ (seed 2) and /v1/api/logs/ (seed 5), with a user JWT', () => {
  it('stores a log in the personal project by default and echoes it in seed 2 terms', async () => {
    const u = await createUser(stack.web.ds);
    const res = await stack.http
      .post('/api/logs/')
      .set('Authorization', `Bearer ${u.access}`)
      .send(seed2Log({ environment: 'production' }));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      event_id: expect.any(String),
      message: 'User login successful',
      severity: 'INFO',
      source: 'auth_service',
      timestamp: '2024-01-01T12:00:00.000Z',
      environment: 'production',
      project: u.personal.id,
    });
    await eventually(async () => (await countLogs(stack.web.ds, u.personal.id)) === 1);
    const list = await stack.http.get('/api/logs/').set('Authorization', `Bearer ${u.access}`);
    expect(list.body.results[0]).toEqual({
      id: expect.any(Number),
      timestamp: '2024-01-01T12:00:00.000Z',
      message: 'User login successful',
      severity: 'INFO',
      source: 'auth_service',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      environment: 'production',
      project: u.personal.id,
      archived: false,
    });
    const [{ origin }] = await stack.web.ds.query(`SELECT origin FROM events WHERE project_id = $1`, [u.personal.id]);
    expect(origin).toBe('logs');
  });

  it('seed 5 posts to /v1/api/logs/ (JWT prefix too); batches go to the named project', async () => {
    const owner = await createUser(stack.web.ds);
    const member = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Shared');
    await addMember(stack.web.ds, project.id, member.user.id, 'member');
    const res = await stack.http
      .post('/v1/api/logs/')
      .set('Authorization', `JWT ${member.access}`)
      .send([seed2Log({ project: project.id, severity: 'error' }), seed2Log({ project: project.id, severity: 'Critical' })]);
    expect(res.status).toBe(202);
    expect(res.body.map((r: { severity: string }) => r.severity)).toEqual(['ERROR', 'CRITICAL']);
    await eventually(async () => (await countLogs(stack.web.ds, project.id)) === 2);
  });

  it('a viewer cannot post (403), a stranger gets 404, bad input is 400, and nothing is queued', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Guarded');
    await addMember(stack.web.ds, project.id, viewer.user.id, 'viewer');
    const before = await totalJobs();
    const asViewer = await stack.http
      .post('/api/logs/')
      .set('Authorization', `Bearer ${viewer.access}`)
      .send(seed2Log({ project: project.id }));
    expect(asViewer.status).toBe(403);
    const asStranger = await stack.http
      .post('/api/logs/')
      .set('Authorization', `Bearer ${stranger.access}`)
      .send(seed2Log({ project: project.id }));
    expect(asStranger.status).toBe(404);
    const invalid = await stack.http
      .post('/api/logs/')
      .set('Authorization', `Bearer ${owner.access}`)
      .send(seed2Log({ severity: 'LOUD' }));
    expectError(invalid, 400, 'validation_error');
    expect(invalid.body.details[0].path).toBe('severity');
    const anonymous = await stack.http.post('/api/logs/').send(seed2Log());
    expect(anonymous.status).toBe(401);
    expect(await totalJobs()).toBe(before);
  });
});

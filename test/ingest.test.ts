import { gzipSync, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { countEvents, eventually, jobsAdded, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';

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

describe('POST /api/events/ (seed 1)', () => {
  it('accepts the seed README event, stores it, and reads it back with seed 1 field names', async () => {
    const sent = pantiesEvent({ event_id: `readme-${Date.now()}` }) as { event_id: string; stacktrace: string };
    const res = await stack.http.post('/api/events/').set('Authorization', `Bearer ${alice.apiKey}`).send(sent);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ event_id: sent.event_id });

    const list = await eventually(async () => {
      const r = await stack.http.get(`/api/projects/${alice.personal.id}/events/`).set('Authorization', `Bearer ${alice.access}`);
      return r.body.count === 1 ? r.body : null;
    });
    const e = list.results[0];
    expect(e).toMatchObject({
      event_id: sent.event_id,
      event_type: 'exception',
      exception_type: 'ValueError',
      message: 'Something went wrong',
      stacktrace: sent.stacktrace,
      level: 'error',
      environment: 'production',
      service_name: 'my-app',
      timestamp: '2009-02-13T23:31:30.000Z',
      tags: { severity: 'high' },
      extra: { user_id: '123' },
    });
    expect(typeof e.id).toBe('number');
    expect(Date.parse(e.received_at)).toBeGreaterThan(Date.parse(e.timestamp));
  });

  it('assigns an event_id when absent and answers an array for a batch, in order', async () => {
    const bob = await createUser(stack.web.ds);
    const batch = [
      pantiesEvent({ message: 'one' }),
      pantiesEvent({ message: 'two', event_id: 'client-id-2' }),
      pantiesEvent({ message: 'three' }),
    ];
    const res = await stack.http.post('/api/events').set('Authorization', `Bearer ${bob.apiKey}`).send(batch);
    expect(res.status).toBe(202);
    expect(res.body).toHaveLength(3);
    expect(res.body[0].event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(res.body[1].event_id).toBe('client-id-2');
    expect(new Set(res.body.map((r: { event_id: string }) => r.event_id)).size).toBe(3);

    await eventually(async () => (await countEvents(stack.web.ds, bob.personal.id)) === 3);
    const rows: Array<{ event_id: string; message: string }> = await stack.web.ds.query(
      'SELECT event_id, message FROM events WHERE project_id = $1 ORDER BY message',
      [bob.personal.id],
    );
    expect(rows.map((r) => [r.message, r.event_id]).sort()).toEqual(
      [
        ['one', res.body[0].event_id],
        ['three', res.body[2].event_id],
        ['two', 'client-id-2'],
      ].sort(),
    );
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ])('accepts a %s-encoded body', async (encoding, compress) => {
    const u = await createUser(stack.web.ds);
    const body = compress(Buffer.from(JSON.stringify(pantiesEvent({ message: `compressed ${encoding}` }))));
    // fetch, not supertest: superagent re-encodes Buffers sent as application/json.
    const res = await fetch(`${await listen(stack.web)}/api/events/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${u.apiKey}`, 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      body,
    });
    expect(res.status).toBe(202);
    await eventually(async () => (await countEvents(stack.web.ds, u.personal.id)) === 1);
  });

  it('normalizes level names and timestamps in any of the accepted forms', async () => {
    const u = await createUser(stack.web.ds);
    const batch = [
      pantiesEvent({ event_id: 'a', level: 'WARN', timestamp: '2024-01-01T12:00:00Z' }),
      pantiesEvent({ event_id: 'b', level: 'Fatal', timestamp: 1704110400.5 }),
      pantiesEvent({ event_id: 'c', level: 'debug', timestamp: 1704110400123 }),
    ];
    expect((await stack.http.post('/api/events/').set('Authorization', `Bearer ${u.apiKey}`).send(batch)).status).toBe(202);
    await eventually(async () => (await countEvents(stack.web.ds, u.personal.id)) === 3);
    const rows: Array<{ event_id: string; level: string; ts: string }> = await stack.web.ds.query(
      `SELECT event_id, level, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS ts FROM events WHERE project_id = $1 ORDER BY event_id`,
      [u.personal.id],
    );
    expect(rows).toEqual([
      { event_id: 'a', level: 'warning', ts: '2024-01-01T12:00:00.000' },
      { event_id: 'b', level: 'critical', ts: '2024-01-01T12:00:00.500' },
      { event_id: 'c', level: 'debug', ts: '2024-01-01T12:00:00.123' },
    ]);
  });
});

describe('bad input changes nothing', () => {
  const post = (body: string | object, key = alice.apiKey) =>
    stack.http.post('/api/events/').set('Authorization', `Bearer ${key}`).set('Content-Type', 'application/json').send(body);

  it('malformed JSON is 400 malformed_json', async () => {
    const before = await totalJobs();
    const res = await post('{"message": "unterminated');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'malformed_json', error: 'Malformed JSON' });
    expect(res.body).toHaveProperty('details');
    expect(await totalJobs()).toBe(before);
  });

  it('one invalid item refuses the whole batch, naming its index, and queues nothing', async () => {
    const u = await createUser(stack.web.ds);
    const before = await totalJobs();
    const res = await post([pantiesEvent(), pantiesEvent({ level: 'loud' }), pantiesEvent()], u.apiKey);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_error');
    expect(res.body.details).toEqual([
      expect.objectContaining({ path: '1.level', message: expect.stringContaining('unknown level "loud"') }),
    ]);
    expect(await totalJobs()).toBe(before);
    expect(await countEvents(stack.web.ds, u.personal.id)).toBe(0);
  });

  it.each([
    ['an empty object', {}],
    ['a string message of the wrong type', { message: 42 }],
    ['a bad timestamp', { message: 'x', timestamp: 'yesterday' }],
    ['an event_id with spaces', { message: 'x', event_id: 'has space' }],
    ['tags that are not an object', { message: 'x', tags: 'a,b' }],
    ['an empty batch', []],
    ['a JSON scalar', 'just a string'],
  ])('%s is 400', async (_name, body) => {
    const res = await post(body as object);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.any(String), code: expect.any(String), details: expect.anything() });
  });

  it('an unknown API key is 401, a missing one too, and nothing is queued', async () => {
    const before = await totalJobs();
    const unknown = await post(pantiesEvent(), 'flk_doesnotexist0000000000000000000000');
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('invalid_api_key');
    const missing = await stack.http.post('/api/events/').send(pantiesEvent());
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('authentication_required');
    expect(await totalJobs()).toBe(before);
  });

  it('a body over the request limit is 413', async () => {
    const res = await post(pantiesEvent({ message: 'x'.repeat(11 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
  });

  it('one event over the per-event limit is 413, naming it', async () => {
    const res = await post([pantiesEvent(), pantiesEvent({ message: 'y'.repeat(1024 * 1024 + 10) })]);
    expect(res.status).toBe(413);
    expect(res.body.details).toMatchObject({ index: 1 });
  });

  it('a gzip body that inflates past the limit is 413 (no unbounded inflation)', async () => {
    const bomb = gzipSync(Buffer.from(JSON.stringify(pantiesEvent({ message: 'z'.repeat(12 * 1024 * 1024) }))));
    expect(bomb.length).toBeLessThan(100_000);
    const res = await fetch(`${await listen(stack.web)}/api/events/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.apiKey}`, 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: bomb,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('payload_too_large');
  });

  it('an unsupported Content-Encoding is 415', async () => {
    const res = await stack.http
      .post('/api/events/')
      .set('Authorization', `Bearer ${alice.apiKey}`)
      .set('Content-Encoding', 'compress')
      .send('xx');
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('unsupported_encoding');
  });
});

/**
 * Every Sentry SDK generation, over real HTTP into real PostgreSQL: the real `raven`
 * (node) and `raven-js` (in headless Chromium) clients, payloads shaped as raven-java
 * sends them, transactions on /store/ and in envelopes (spans, never issues), and
 * bodies mixing good and bad parts (the good parts kept, the bad counted).
 */
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium } from 'playwright-core';
import Raven from 'raven';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';

/** Stored JSON, read untyped. */
type Json = ReturnType<typeof JSON.parse>;

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

const dsnOf = (u: TestUser) => `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${u.personal.id}`;
const auth = (key: string) => ({ 'X-Sentry-Auth': `Sentry sentry_version=7, sentry_client=raven-java/8.0.3, sentry_key=${key}` });
const rows = (u: TestUser, where = 'TRUE'): Promise<Json[]> =>
  stack.web.ds.query(
    `SELECT event_id, kind, event_type, message, exception_type, level, timestamp, tags, data, issue_id FROM events WHERE project_id = $1 AND ${where} ORDER BY id`,
    [u.personal.id],
  );
const one = (u: TestUser, where: string) => eventually(async () => (await rows(u, where))[0]);
const store = (u: TestUser, body: unknown) =>
  fetch(`${base}/api/${u.personal.id}/store/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...auth(u.apiKey) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
function envelope(items: Array<[Record<string, unknown>, string]>, header: Record<string, unknown> = {}) {
  return [JSON.stringify(header), ...items.flatMap(([h, p]) => [JSON.stringify(h), p])].join('\n') + '\n';
}
const postEnvelope = (u: TestUser, body: string) =>
  fetch(`${base}/api/${u.personal.id}/envelope/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-sentry-envelope', ...auth(u.apiKey) },
    body,
  });
const metric = async (type: string, outcome: string): Promise<number> => {
  const text = (await stack.http.get('/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`faultline_sentry_items_total{type="${type}",outcome="${outcome}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('the real raven (node) client', () => {
  it('its base64+zlib store bodies arrive as exceptions with type, value, frames, and as messages', async () => {
    const u = await createUser(stack.web.ds);
    const client = new Raven.Client(dsnOf(u), {
      release: 'legacy@1.0.0',
      environment: 'staging',
      autoBreadcrumbs: false,
      captureUnhandledRejections: false,
    });
    const sent = (fn: (done: (err?: unknown) => void) => void) =>
      new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())));
    function chargeCard(amount: number) {
      if (amount > 0) throw new TypeError(`card declined for ${amount}`);
    }
    try {
      chargeCard(12);
    } catch (err) {
      await sent((done) => client.captureException(err as Error, { tags: { shop: 'eu' } }, (e: unknown) => done(e as Error)));
    }
    await sent((done) => client.captureMessage('nightly export finished', { level: 'info' }, (e: unknown) => done(e as Error)));

    const exc = await one(u, `exception_type = 'TypeError'`);
    expect(exc).toMatchObject({
      kind: 'error',
      event_type: 'exception',
      message: 'card declined for 12',
      tags: expect.objectContaining({ shop: 'eu', release: 'legacy@1.0.0' }),
    });
    expect(exc.data.exceptions[0].frames.at(-1)).toMatchObject({ function: 'chargeCard', in_app: true });
    expect(exc.tags).toMatchObject({ platform: 'node' });
    expect(exc.issue_id).not.toBeNull();
    const msg = await one(u, `message = 'nightly export finished'`);
    expect(msg).toMatchObject({ event_type: 'message', level: 'info', exception_type: null });
  });
});

describe('the real raven-js client, in headless Chromium', () => {
  let page: Server;
  let pageUrl: string;
  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    const ravenJs = readFileSync(require.resolve('raven-js/dist/raven.js'));
    page = createServer((req, res) => {
      if (req.url === '/raven.js') return res.writeHead(200, { 'Content-Type': 'application/javascript' }).end(ravenJs);
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>shop</title><script src="/raven.js"></script>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(page.address() as { port: number }).port}/checkout?step=2`;
  });
  afterAll(() => new Promise<void>((resolve) => page.close(() => resolve())));

  it('sends cross-origin to /store/ with ?sentry_key=; the exception, request and breadcrumbs are kept', async () => {
    const u = await createUser(stack.web.ds);
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const tab = await browser.newPage();
      await tab.goto(pageUrl);
      await tab.evaluate(async (dsn) => {
        const R = (globalThis as unknown as { Raven: Json }).Raven;
        R.config(dsn, { release: 'web@3.1.0', environment: 'production' }).install();
        R.captureBreadcrumb({ category: 'ui.click', message: 'button#pay' });
        try {
          (globalThis as unknown as { payNow: () => void }).payNow();
        } catch (err) {
          R.captureException(err);
        }
      }, dsnOf(u));
      const e = await one(u, `exception_type = 'TypeError'`);
      expect(e.message).toMatch(/payNow is not a function/);
      expect(e.tags).toMatchObject({ release: 'web@3.1.0' });
      expect(e.data.request).toMatchObject({ url: pageUrl.split('?')[0], query_string: 'step=2' });
      expect(e.data.breadcrumbs).toContainEqual(expect.objectContaining({ category: 'ui.click', message: 'button#pay' }));
      expect(e.tags).toMatchObject({ platform: 'javascript' });
      expect(e.data.exceptions[0].frames.length).toBeGreaterThan(0);
    } finally {
      await browser.close();
    }
  });
});

describe('payloads as raven-java sends them', () => {
  it('sentry.interfaces.* names: the exception type, value, frames, request and user are stored', async () => {
    const u = await createUser(stack.web.ds);
    const r = await store(u, {
      event_id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      message: 'Payment failed',
      timestamp: '2017-05-02T17:41:36',
      level: 'error',
      logger: 'com.example.Checkout',
      platform: 'java',
      culprit: 'com.example.Checkout.pay',
      'sentry.interfaces.Exception': [
        {
          type: 'ArithmeticException',
          value: '/ by zero',
          module: 'java.lang',
          stacktrace: {
            frames: [{ module: 'com.example.Checkout', function: 'pay', lineno: 41, in_app: true, filename: 'Checkout.java' }],
          },
        },
      ],
      'sentry.interfaces.Message': { message: 'Payment failed', params: [] },
      'sentry.interfaces.Http': {
        url: 'https://shop.example/pay',
        method: 'POST',
        headers: [['Host', 'shop.example']],
        query_string: 'a=1',
      },
      'sentry.interfaces.User': { id: 'u-7', email: 'ada@example.com' },
      tags: [['jvm', '17']],
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id: '0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d' });
    const e = await one(u, 'TRUE');
    expect(e).toMatchObject({ exception_type: 'ArithmeticException', message: '/ by zero', tags: expect.objectContaining({ jvm: '17' }) });
    expect(new Date(e.timestamp).toISOString()).toBe('2017-05-02T17:41:36.000Z');
    expect(e.data).toMatchObject({
      request: { headers: { Host: 'shop.example' }, query_string: 'a=1' },
      user: { id: 'u-7' },
      culprit: 'com.example.Checkout.pay',
    });
    expect(e.data.exceptions[0].frames[0]).toMatchObject({ module: 'com.example.Checkout', function: 'pay', lineno: 41 });
  });
});

const trace = 'c'.repeat(32);
const transaction = (name: string, spanId: string, over: Record<string, unknown> = {}) => ({
  type: 'transaction',
  event_id: spanId.padEnd(32, '0'),
  transaction: name,
  start_timestamp: Date.now() / 1000 - 1,
  timestamp: Date.now() / 1000,
  contexts: { trace: { trace_id: trace, span_id: spanId, op: 'http.server', status: 'ok' } },
  spans: [],
  ...over,
});

describe('transactions are never error events', () => {
  it('on /store/ and in envelopes (as a transaction item, or an event item of type transaction): spans, no issue', async () => {
    const u = await createUser(stack.web.ds);
    const r = await store(u, transaction('GET /store', '1'.repeat(16)));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id: '1'.repeat(16).padEnd(32, '0') });
    const env = await postEnvelope(
      u,
      envelope([
        [{ type: 'transaction' }, JSON.stringify(transaction('GET /envelope', '2'.repeat(16)))],
        [{ type: 'event' }, JSON.stringify(transaction('GET /event-item', '3'.repeat(16)))],
      ]),
    );
    expect(env.status).toBe(200);
    // Another type that is no error (Sentry's internal "generic") is dropped, not stored as one.
    expect((await store(u, { type: 'generic', message: 'not an error' })).status).toBe(200);
    // A marker error sent last: once it is stored, anything queued before it is too.
    await store(u, { message: 'marker', level: 'error' });
    await one(u, `message = 'marker'`);
    const names = await eventually(async () => {
      const s: Array<{ name: string }> = await stack.web.ds.query(`SELECT name FROM spans WHERE project_id = $1 ORDER BY name`, [
        u.personal.id,
      ]);
      return s.length === 3 ? s.map((x) => x.name) : null;
    });
    expect(names).toEqual(['GET /envelope', 'GET /event-item', 'GET /store']);
    expect((await rows(u)).map((e) => e.message)).toEqual(['marker']);
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM issues WHERE project_id = $1`, [u.personal.id]);
    expect(n).toBe(1);
  });
});

describe('bad input', () => {
  it('an envelope mixing good and bad items: the good stored, the bad counted, 200 with the event id', async () => {
    const u = await createUser(stack.web.ds);
    const invalidBefore = await metric('event', 'invalid');
    const tooLargeBefore = await metric('event', 'too_large');
    const r = await postEnvelope(
      u,
      envelope([
        [{ type: 'event' }, '{not json'],
        [{ type: 'event' }, JSON.stringify({ message: 'x'.repeat(1_100_000) })],
        [{ type: 'event' }, JSON.stringify({ event_id: 'd'.repeat(32), exception: [{ type: 'KeyError', value: "'sku'" }] })],
        [{ type: 'event' }, '[1, 2]'],
      ]),
    );
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id: 'd'.repeat(32) });
    expect(await one(u, 'TRUE')).toMatchObject({ event_id: 'd'.repeat(32), exception_type: 'KeyError' });
    expect(await metric('event', 'invalid')).toBe(invalidBefore + 2);
    expect(await metric('event', 'too_large')).toBe(tooLargeBefore + 1);
  });

  it('a store payload with fields of the wrong type: stored, the fields listed in data.errors', async () => {
    const u = await createUser(stack.web.ds);
    const r = await store(u, { event_id: 'e'.repeat(32), message: 'kept anyway', breadcrumbs: 'oops', user: 7, timestamp: 'last tuesday' });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id: 'e'.repeat(32) });
    const e = await one(u, 'TRUE');
    expect(e.message).toBe('kept anyway');
    expect(e.data.errors.map((x: { name: string }) => x.name).sort()).toEqual(['breadcrumbs', 'timestamp', 'user']);
  });

  it('a body that is not an event at all is a 400 naming it, and nothing is stored', async () => {
    const u = await createUser(stack.web.ds);
    const r = await store(u, '["not", "an", "event"]');
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ code: 'invalid_event', details: { field: '(body)' } });
    const bad = await postEnvelope(u, envelope([[{ type: 'event' }, '"just a string"']]));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid_envelope', details: { item: 'event' } });
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1`, [u.personal.id]);
    expect(n).toBe(0);
  });
});

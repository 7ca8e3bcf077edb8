/**
 * Issue 18: Sentry's standard inbound filters per project. Each filter with the payload a
 * real client sends when it should fire (and a near miss that must be kept): filtered
 * events are answered like stored ones, counted as `filtered` outcomes with the filter's
 * id as the reason, and never stored. Real HTTP, workers, PostgreSQL and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as Sentry from '@sentry/node';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { createDataSource } from '../src/db/data-source.ts';
import { InboundFilterCache } from '../src/domain/outcomes/inboundFilters.ts';
import { sentryEventToRecord } from '../src/domain/ingest/formats/sentry/normalize.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
});
afterAll(async () => {
  await worker?.close();
  await stack?.web.close();
});

const UA = {
  ie10: 'Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)',
  ie11: 'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko',
  edgeLegacy:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582',
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  bingbot: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
};

/** A browser SDK's error event, as @sentry/browser sends it. */
function browserError(opts: {
  message?: string;
  type?: string;
  ua?: string;
  url?: string;
  frame?: string;
  release?: string;
  ip?: string;
  serverName?: string;
}) {
  return {
    platform: 'javascript',
    level: 'error',
    release: opts.release ?? 'shop@2.0.0',
    exception: {
      values: [
        {
          type: opts.type ?? 'TypeError',
          value: opts.message ?? "Cannot read properties of undefined (reading 'price')",
          mechanism: { type: 'onerror', handled: false },
          stacktrace: {
            frames: [
              { filename: 'https://shop.example.com/assets/app.js', function: 'checkout', lineno: 10, colno: 5, in_app: true },
              {
                filename: opts.frame ?? 'https://shop.example.com/assets/cart.js',
                abs_path: opts.frame ?? 'https://shop.example.com/assets/cart.js',
                function: 'total',
                lineno: 3,
                colno: 12,
                in_app: true,
              },
            ],
          },
        },
      ],
    },
    request: { url: opts.url ?? 'https://shop.example.com/checkout', headers: { 'User-Agent': opts.ua ?? UA.chrome } },
    ...(opts.ip ? { user: { ip_address: opts.ip } } : {}),
    ...(opts.serverName ? { server_name: opts.serverName } : {}),
    sdk: { name: 'sentry.javascript.browser', version: '9.0.0' },
  };
}

const auth = (u: TestUser) => ({
  'X-Sentry-Auth': `Sentry sentry_version=7, sentry_client=sentry.javascript.browser/9.0.0, sentry_key=${u.apiKey}`,
});
async function sendEnvelope(u: TestUser, event: Record<string, unknown>, extra: string[] = []) {
  const body =
    [JSON.stringify({ sent_at: new Date().toISOString() }), JSON.stringify({ type: 'event' }), JSON.stringify(event), ...extra].join('\n') +
    '\n';
  const res = await fetch(`${base}/api/${u.personal.id}/envelope/`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-sentry-envelope', ...auth(u) },
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ id?: string }>;
}
async function sendStore(u: TestUser, event: Record<string, unknown>) {
  const res = await fetch(`${base}/api/${u.personal.id}/store/`, {
    method: 'POST',
    body: JSON.stringify(event),
    headers: { 'Content-Type': 'application/json', ...auth(u) },
  });
  expect(res.status).toBe(200);
  return res.json() as Promise<{ id: string }>;
}
const put = (u: TestUser, body: unknown) =>
  stack.http
    .put(`/api/projects/${u.personal.id}/inbound-filters/`)
    .set('Authorization', `Bearer ${u.access}`)
    .send(body as object);
const get = (u: TestUser) => stack.http.get(`/api/projects/${u.personal.id}/inbound-filters/`).set('Authorization', `Bearer ${u.access}`);

const storedMessages = async (u: TestUser): Promise<string[]> =>
  (await worker.ds.query(`SELECT message FROM events WHERE project_id = $1 ORDER BY message`, [u.personal.id])).map(
    (r: { message: string }) => r.message,
  );
/** Waits until the sentinel (sent last) is stored: by then anything filtered would have been too. */
const storedOnceSentinel = (u: TestUser, sentinel: string) =>
  eventually(async () => {
    const m = await storedMessages(u);
    return m.includes(sentinel) ? m : null;
  });
async function filtered(u: TestUser): Promise<Record<string, number>> {
  const res = await stack.http
    .get(`/api/projects/${u.personal.id}/stats/outcomes/?outcome=filtered`)
    .set('Authorization', `Bearer ${u.access}`);
  expect(res.status).toBe(200);
  const out: Record<string, number> = {};
  for (const g of res.body.groups as Array<{ by: { reason: string; category: string }; totals: { 'sum(quantity)': number } }>) {
    const key = g.by.category === 'error' ? g.by.reason : `${g.by.category}:${g.by.reason}`;
    out[key] = (out[key] ?? 0) + g.totals['sum(quantity)'];
  }
  return out;
}

describe('the inbound filters API', () => {
  it('starts with every filter off, changes what it is told, and refuses bad input without changing anything', async () => {
    const u = await createUser(stack.web.ds);
    const initial = await get(u);
    expect(initial.status).toBe(200);
    expect(initial.body).toMatchObject({
      legacy_browsers: false,
      web_crawlers: false,
      browser_extensions: false,
      localhost: false,
      error_messages: [],
      releases: [],
    });
    expect(initial.body.filters.map((f: { id: string }) => f.id)).toEqual([
      'legacy-browsers',
      'web-crawlers',
      'browser-extensions',
      'localhost',
      'error-message',
      'release-version',
    ]);

    const changed = await put(u, { web_crawlers: true, error_messages: ['*ResizeObserver loop*', '  Script error.  '] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      web_crawlers: true,
      legacy_browsers: false,
      error_messages: ['*ResizeObserver loop*', 'Script error.'],
    });
    // A partial change keeps the rest.
    expect((await put(u, { localhost: true })).body).toMatchObject({
      web_crawlers: true,
      localhost: true,
      error_messages: ['*ResizeObserver loop*', 'Script error.'],
    });

    for (const bad of [
      { web_crawler: true },
      { legacy_browsers: 'yes' },
      { releases: ['a\nb'] },
      { releases: Array.from({ length: 51 }, (_, i) => `r${i}`) },
      { error_messages: [''] },
    ]) {
      const res = await put(u, bad);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_error' });
    }
    expect((await get(u)).body).toMatchObject({
      web_crawlers: true,
      localhost: true,
      legacy_browsers: false,
      releases: [],
      error_messages: ['*ResizeObserver loop*', 'Script error.'],
    });
  });
});

describe('inbound filters at ingest', () => {
  it('with every filter off, a crawler, IE and localhost are all stored', async () => {
    const u = await createUser(stack.web.ds);
    await sendEnvelope(u, browserError({ message: 'from a bot', ua: UA.googlebot }));
    await sendEnvelope(u, browserError({ message: 'from IE', ua: UA.ie10 }));
    await sendEnvelope(u, browserError({ message: 'sentinel', url: 'http://localhost:3000/' }));
    await eventually(async () => ((await storedMessages(u)).length === 3 ? true : null));
    expect(await filtered(u)).toEqual({});
  });

  it('drops each filtered event (counted under its filter id) and keeps the near misses', async () => {
    const u = await createUser(stack.web.ds);
    const on = await put(u, {
      legacy_browsers: true,
      web_crawlers: true,
      browser_extensions: true,
      localhost: true,
      error_messages: ['*ResizeObserver loop*'],
      releases: ['*-canary', 'shop@1.*'],
    });
    expect(on.status).toBe(200);

    const cases: Array<[string, Parameters<typeof browserError>[0]]> = [
      ['legacy-browsers', { ua: UA.ie10 }],
      ['legacy-browsers', { ua: UA.ie11 }],
      ['legacy-browsers', { ua: UA.edgeLegacy }],
      ['web-crawlers', { ua: UA.googlebot }],
      ['web-crawlers', { ua: UA.bingbot }],
      ['browser-extensions', { frame: 'chrome-extension://kbfnbcaeplbcioakkpcpgfkobkghlhen/src/js/Grammarly.js' }],
      ['browser-extensions', { frame: 'moz-extension://2f0b1c66-3a5e-4d3c-9bd4-1c1d6d7e8f90/content.js' }],
      ['browser-extensions', { type: 'Error', message: 'Extension context invalidated.' }],
      ['localhost', { url: 'http://localhost:3000/checkout' }],
      ['localhost', { url: 'http://127.0.0.1:8080/' }],
      ['localhost', { ip: '::1' }],
      ['localhost', { serverName: 'localhost' }],
      ['error-message', { type: 'Error', message: 'ResizeObserver loop limit exceeded' }],
      ['release-version', { release: 'shop@2.1.0-canary' }],
      ['release-version', { release: 'shop@1.9.3' }],
    ];
    for (const [, opts] of cases)
      expect((await sendEnvelope(u, browserError({ ...opts, message: opts.message ?? 'filtered out' }))).id).toMatch(/^[0-9a-f]{32}$/);
    // The legacy store endpoint filters too, and still answers the id.
    expect((await sendStore(u, browserError({ ua: UA.ie10, message: 'filtered out' }))).id).toMatch(/^[0-9a-f]{32}$/);

    // Near misses: a modern Chrome, a page of the site, an extension-free stack, another release.
    await sendEnvelope(u, browserError({ message: 'kept: modern chrome', ua: UA.chrome }));
    await sendEnvelope(
      u,
      browserError({ message: 'kept: production host', url: 'https://localhost.example.com/x', release: 'shop@2.1.0' }),
    );
    await sendEnvelope(u, browserError({ message: 'kept: other resize', type: 'Error', release: 'shop@10.0.0' }));
    await sendStore(u, browserError({ message: 'sentinel' }));

    const stored = await storedOnceSentinel(u, 'sentinel');
    expect(stored).toEqual(['kept: modern chrome', 'kept: other resize', 'kept: production host', 'sentinel']);
    expect(await filtered(u)).toEqual({
      'legacy-browsers': 4,
      'web-crawlers': 2,
      'browser-extensions': 3,
      localhost: 4,
      'error-message': 1,
      'release-version': 2,
    });
  });

  it("drops a filtered event's attachments with it, counted", async () => {
    const u = await createUser(stack.web.ds);
    await put(u, { web_crawlers: true });
    const attachment = [JSON.stringify({ type: 'attachment', filename: 'log.txt', content_type: 'text/plain', length: 5 }), 'hello'];
    await sendEnvelope(u, browserError({ ua: UA.googlebot, message: 'crawled' }), attachment);
    await sendStore(u, browserError({ message: 'sentinel' }));
    await storedOnceSentinel(u, 'sentinel');
    expect(await filtered(u)).toEqual({ 'web-crawlers': 1, 'attachment:event_filtered': 1 });
    const [{ n }] = await worker.ds.query(`SELECT count(*)::int AS n FROM event_attachments WHERE project_id = $1`, [u.personal.id]);
    expect(n).toBe(0);
  });

  it('applies to what the real @sentry/node SDK sends: a release pattern and a message pattern', async () => {
    const u = await createUser(stack.web.ds);
    await put(u, { releases: ['*-dev'], error_messages: ['*flaky upstream*'] });
    const dsn = `http://${u.apiKey}@${new URL(base).host}/${u.personal.id}`;
    const init = (release: string) => Sentry.init({ dsn, release, defaultIntegrations: false, enableRuntimeChannelInjection: false });
    init('api@3.0.0-dev');
    try {
      Sentry.captureException(new Error('dev build noise'));
      expect(await Sentry.flush(5000)).toBe(true);
    } finally {
      await Sentry.close(2000);
    }
    init('api@3.0.0');
    try {
      Sentry.captureException(new Error('flaky upstream timed out'));
      Sentry.captureException(new Error('sentinel'));
      expect(await Sentry.flush(5000)).toBe(true);
    } finally {
      await Sentry.close(2000);
    }
    expect(await storedOnceSentinel(u, 'sentinel')).toEqual(['sentinel']);
    expect(await filtered(u)).toEqual({ 'release-version': 1, 'error-message': 1 });
  });

  it('when PostgreSQL cannot be read, events are let through (kept), never refused for it', async () => {
    const u = await createUser(stack.web.ds);
    await put(u, { web_crawlers: true });
    const ds = createDataSource({ url: process.env.DATABASE_URL!, poolSize: 1 });
    await ds.initialize();
    const cache = new InboundFilterCache(ds, 60_000);
    const { record } = sentryEventToRecord(browserError({ ua: UA.googlebot }), u.personal.id, new Date().toISOString());
    expect(await cache.apply(u.personal.id, [record])).toEqual([]);
    await ds.destroy();
    const blind = new InboundFilterCache(ds, 60_000);
    expect(await blind.apply(u.personal.id, [record])).toEqual([record]);
    // The cache that had read them keeps applying them.
    expect(await cache.apply(u.personal.id, [record])).toEqual([]);
  });
});

/**
 * Browser telemetry, cross-origin, in real headless Chromium: a page from another origin
 * posts OTLP/JSON with `x-faultline-key` (what OpenTelemetry's web exporter does: a
 * preflighted fetch) and a Sentry envelope as text/plain (what Sentry's browser SDK does,
 * no preflight). Both must be readable by the page, and the spans must arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { ingestCorsHeaders } from '../src/api/http/ingestCors.ts';
import { launchBrowser } from './helpers/adminBrowser.ts';
import { createUser } from './helpers/factories.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
let page: Server;
let pageOrigin: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  // The app's own origin: localhost on another port (the API is at 127.0.0.1).
  page = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>shop</title><p>shop</p>');
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://localhost:${(page.address() as { port: number }).port}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser.close();
  await new Promise((resolve) => page.close(resolve));
  await worker.close();
  await stack.web.close();
});

const otlpBody = (traceId: string, spanId: string) => {
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'web-shop' } }] },
        scopeSpans: [
          {
            scope: { name: '@opentelemetry/instrumentation-fetch' },
            spans: [
              {
                traceId,
                spanId,
                name: 'GET /api/cart',
                kind: 3,
                startTimeUnixNano: String(now - 25_000_000n),
                endTimeUnixNano: String(now),
                attributes: [{ key: 'http.method', value: { stringValue: 'GET' } }],
              },
            ],
          },
        ],
      },
    ],
  };
};

describe('browser OTLP', () => {
  it('a page on another origin posts OTLP/JSON with x-faultline-key (preflighted) to /v1/traces and /api/otlp/v1/traces: answered, readable, stored', async () => {
    const u = await createUser(stack.web.ds);
    const tab = await browser.context.newPage();
    await tab.goto(pageOrigin);
    const preflights: string[] = [];
    const onRequest = (req: IncomingMessage) => {
      if (req.method === 'OPTIONS') preflights.push(String(req.headers['access-control-request-headers']));
    };
    stack.web.server.on('request', onRequest);
    try {
      for (const path of ['/v1/traces', '/api/otlp/v1/traces']) {
        const traceId = randomBytes(16).toString('hex');
        const spanId = randomBytes(8).toString('hex');
        const answer = await tab.evaluate(
          async ({ url, key, body }) => {
            const r = await fetch(url, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'x-faultline-key': key },
              body: JSON.stringify(body),
            });
            return { status: r.status, text: await r.text() };
          },
          { url: `${base}${path}`, key: u.apiKey, body: otlpBody(traceId, spanId) },
        );
        expect(answer).toEqual({ status: 200, text: '{}' });
        const span = await eventually(async () => {
          const rows = await stack.web.ds.query(`SELECT name, service FROM spans WHERE project_id = $1 AND trace_id = $2`, [
            u.personal.id,
            traceId,
          ]);
          return rows[0];
        });
        expect(span).toEqual({ name: 'GET /api/cart', service: 'web-shop' });
      }
    } finally {
      stack.web.server.off('request', onRequest);
    }
    expect(preflights.length).toBeGreaterThanOrEqual(1);
    expect(preflights[0]).toMatch(/x-faultline-key/);
    await tab.close();
  });

  it('a refusal (wrong key) is readable by the page too, and /v1/logs answers its preflight', async () => {
    const tab = await browser.context.newPage();
    await tab.goto(pageOrigin);
    const answer = await tab.evaluate(async (url) => {
      const r = await fetch(`${url}/v1/logs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'x-faultline-key': 'nope' },
        body: '{"resourceLogs":[]}',
      });
      return { status: r.status, body: await r.json() };
    }, base);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ code: 16 }); // google.rpc UNAUTHENTICATED
    await tab.close();
  });

  it("Sentry's browser transport (text/plain, key in the URL, no preflight) gets Access-Control-Allow-Origin and the event is stored", async () => {
    const u = await createUser(stack.web.ds);
    const tab = await browser.context.newPage();
    await tab.goto(pageOrigin);
    const eventId = randomBytes(16).toString('hex');
    const envelope = [
      JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString() }),
      JSON.stringify({ type: 'event' }),
      JSON.stringify({ event_id: eventId, message: 'browser boom', level: 'error', platform: 'javascript' }),
    ].join('\n');
    const answer = await tab.evaluate(
      async ({ url, body }) => {
        const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body });
        return { status: r.status, text: await r.text() };
      },
      { url: `${base}/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}&sentry_version=7`, body: envelope },
    );
    expect(answer.status).toBe(200);
    await eventually(
      async () =>
        (await stack.web.ds.query(`SELECT 1 FROM events WHERE project_id = $1 AND event_id = $2`, [u.personal.id, eventId])).length === 1,
    );
    await tab.close();
  });
});

describe('OTLP_CORS_ORIGINS', () => {
  const req = (origin?: string) => ({ headers: origin ? { origin } : {} }) as IncomingMessage;
  it('"*" (the default) lets any origin read; a list names the allowed origins and others get no Allow-Origin', () => {
    expect(ingestCorsHeaders(req('https://shop.example'), '*')['Access-Control-Allow-Origin']).toBe('*');
    const list = ['https://shop.example', 'https://admin.example'];
    expect(ingestCorsHeaders(req('https://shop.example'), list)).toMatchObject({
      'Access-Control-Allow-Origin': 'https://shop.example',
      Vary: 'Origin',
    });
    expect(ingestCorsHeaders(req('https://evil.example'), list)['Access-Control-Allow-Origin']).toBeUndefined();
    expect(ingestCorsHeaders(req(), list)['Access-Control-Allow-Origin']).toBeUndefined();
  });
});

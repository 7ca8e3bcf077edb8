/**
 * Browser security reports: a page served to real headless Chromium with a CSP that
 * blocks a script reports it — by `report-uri` and by `report-to` (Reporting-Endpoints,
 * the Reporting API report Chromium builds, preflighted cross-origin) — and the report is stored as a CSP
 * error event, grouped by directive and blocked host. Extension noise is filtered.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser } from 'playwright-core';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';

/** Stored JSON, read untyped. */
type Json = ReturnType<typeof JSON.parse>;

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
let browser: Browser;
let site: Server;
let siteBase: string;
/** What the page server answers, per path: its policy headers. */
const policies = new Map<string, Record<string, string>>();

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  site = createServer((req, res) => {
    const headers = policies.get(req.url ?? '') ?? {};
    // The blocked script is on a host that is never contacted: CSP stops it before any request.
    res
      .writeHead(200, { 'Content-Type': 'text/html', ...headers })
      .end('<!doctype html><title>shop</title><script src="http://evil.example/steal.js"></script><p>hi</p>');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteBase = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
});
afterAll(async () => {
  await browser.close();
  await new Promise<void>((resolve) => site.close(() => resolve()));
  await worker.close();
  await stack.web.close();
});

const reportUrl = (u: TestUser, query = '') => `${base}/api/${u.personal.id}/security/?sentry_key=${u.apiKey}${query}`;
const cspEvents = (u: TestUser): Promise<Json[]> =>
  stack.web.ds.query(
    `SELECT e.message, e.exception_type, e.event_type, e.environment, e.release, e.tags, e.data, i.title, i.fingerprint FROM events e LEFT JOIN issues i ON i.id = e.issue_id WHERE e.project_id = $1 AND e.event_type = 'csp' ORDER BY e.id`,
    [u.personal.id],
  );
const report = (u: TestUser, body: unknown, type = 'application/csp-report', query = '') =>
  fetch(reportUrl(u, query), {
    method: 'POST',
    headers: { 'Content-Type': type, 'User-Agent': 'Mozilla/5.0 test' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const csp = (over: Record<string, unknown> = {}) => ({
  'csp-report': {
    'document-uri': 'https://shop.example/cart',
    'effective-directive': 'script-src-elem',
    'violated-directive': 'script-src-elem',
    'blocked-uri': 'https://evil.example/x.js',
    'original-policy': "script-src 'self'",
    disposition: 'enforce',
    ...over,
  },
});

async function visit(path: string) {
  const tab = await browser.newPage();
  try {
    await tab.goto(`${siteBase}${path}`);
    await tab.waitForSelector('p');
  } finally {
    // Reports already queued by the browser still go out; the DB is polled for them.
    await tab.close();
  }
}

describe('real headless Chromium', () => {
  it('a CSP with report-uri: the blocked script is reported and stored as a CSP event', async () => {
    const u = await createUser(stack.web.ds);
    policies.set('/report-uri', {
      'Content-Security-Policy': `script-src 'self'; report-uri ${reportUrl(u, '&sentry_environment=production&sentry_release=web%401.2.0')}`,
    });
    await visit('/report-uri');
    const [e] = await eventually(async () => {
      const rows = await cspEvents(u);
      return rows.length ? rows : null;
    });
    expect(e).toMatchObject({
      exception_type: 'CSP',
      message: "Blocked 'script' from 'evil.example'",
      environment: 'production',
      release: 'web@1.2.0',
    });
    expect(e.tags).toMatchObject({ 'csp.blocked_host': 'evil.example', url: `${siteBase}/report-uri` });
    expect(e.tags['effective-directive']).toMatch(/^script-src/);
    expect(e.data.security.report).toMatchObject({ blocked_uri: 'http://evil.example/steal.js', document_uri: `${siteBase}/report-uri` });
    expect(e.data.request.headers['User-Agent']).toMatch(/Chrome/);
    expect(e.title).toBe("CSP: Blocked 'script' from 'evil.example'");
  });

  it('a CSP with report-to and Reporting-Endpoints: the Reporting API report Chromium builds, posted cross-origin after a preflight, is stored', async () => {
    const u = await createUser(stack.web.ds);
    const endpoint = reportUrl(u, '&sentry_environment=reporting-api');
    policies.set('/report-to', {
      'Content-Security-Policy': `script-src 'self'; report-to faultline`,
      'Reporting-Endpoints': `faultline="${endpoint}"`,
    });
    const tab = await browser.newPage();
    try {
      // Chromium builds the report (seen through DevTools' Reporting API domain). This headless
      // build queues its uploads without ever attempting one (completedAttempts stays 0, with
      // or without --short-reporting-delay, http or https), so the page posts it as the
      // browser's uploader would: a JSON list, application/reports+json, cross-origin — which
      // makes Chromium preflight it first.
      const cdp = await tab.context().newCDPSession(tab);
      const built = new Promise<Json>((resolve) => cdp.on('Network.reportingApiReportAdded', (e: Json) => resolve(e.report)));
      await cdp.send('Network.enable');
      await cdp.send('Network.enableReportingApi', { enable: true });
      await tab.goto(`${siteBase}/report-to`);
      const made = await built;
      expect(made).toMatchObject({ type: 'csp-violation', destination: 'faultline', body: { blockedURL: 'http://evil.example/steal.js' } });
      const status = await tab.evaluate(
        async ({ url, report }) => {
          const r = await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/reports+json' },
            body: JSON.stringify([
              {
                type: report.type,
                age: 0,
                url: report.initiatorUrl,
                user_agent: (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent,
                body: report.body,
              },
            ]),
          });
          return r.status;
        },
        { url: endpoint, report: made },
      );
      expect(status).toBe(201);
    } finally {
      await tab.close();
    }
    const [e] = await eventually(async () => {
      const rows = await cspEvents(u);
      return rows.length ? rows : null;
    });
    expect(e).toMatchObject({ exception_type: 'CSP', message: "Blocked 'script' from 'evil.example'", environment: 'reporting-api' });
    expect(e.tags).toMatchObject({ report_api: 'report-to', 'csp.blocked_host': 'evil.example' });
    expect(e.data.security.report.document_uri).toBe(`${siteBase}/report-to`);
    expect(e.data.request.headers['User-Agent']).toMatch(/Chrome/);
  });
});

describe('POST /api/{project_id}/security/', () => {
  it('groups by directive and blocked host: the same host twice is one issue, another host another', async () => {
    const u = await createUser(stack.web.ds);
    for (const blocked of ['https://evil.example/a.js', 'https://evil.example/b.js', 'https://ads.example/c.js']) {
      expect((await report(u, csp({ 'blocked-uri': blocked }))).status).toBe(201);
    }
    const rows = await eventually(async () => {
      const r = await cspEvents(u);
      return r.length === 3 && r.every((x) => x.fingerprint) ? r : null;
    });
    const byMessage = new Map<string, Set<string>>();
    for (const r of rows) byMessage.set(r.message, (byMessage.get(r.message) ?? new Set()).add(r.fingerprint));
    expect([...byMessage.keys()].sort()).toEqual(["Blocked 'script' from 'ads.example'", "Blocked 'script' from 'evil.example'"]);
    expect([...byMessage.values()].map((s) => s.size)).toEqual([1, 1]); // both evil.example reports: one issue
    expect(new Set(rows.map((r) => r.fingerprint)).size).toBe(2);
  });

  it('filters browser-extension and other noise: counted, answered 201, not stored', async () => {
    const u = await createUser(stack.web.ds);
    for (const over of [
      { 'blocked-uri': 'chrome-extension://abcdefgh/inject.js' },
      { 'source-file': 'moz-extension://1234/content.js' },
      { 'blocked-uri': 'safari-extension://com.example.ext/x.js' },
      { 'blocked-uri': 'about' },
      { 'source-file': 'data:text/html,<script>' },
      { 'source-file': 'blob:https://shop.example/1' },
    ]) {
      expect((await report(u, csp(over))).status).toBe(201);
    }
    // A marker report sent last: once it is stored, the filtered ones would have been too.
    await report(u, csp({ 'blocked-uri': 'https://marker.example/x.js' }));
    const rows = await eventually(async () => {
      const r = await cspEvents(u);
      return r.length ? r : null;
    });
    expect(rows.map((r) => r.message)).toEqual(["Blocked 'script' from 'marker.example'"]);
    const metrics = (await stack.http.get('/metrics')).text;
    expect(metrics).toMatch(/faultline_sentry_items_total\{type="security",outcome="filtered_csp_disallowed_source"\} [1-9]/);
    expect(metrics).toMatch(/faultline_sentry_items_total\{type="security",outcome="filtered_csp_foreign_source"\} [1-9]/);
  });

  it('HPKP, Expect-CT, Expect-Staple and non-CSP Reporting API reports', async () => {
    const u = await createUser(stack.web.ds);
    expect(
      (
        await report(
          u,
          {
            'date-time': '2024-05-01T10:00:00Z',
            hostname: 'shop.example',
            port: 443,
            'known-pins': ['pin-sha256="x"'],
            'served-certificate-chain': [],
          },
          'application/json',
        )
      ).status,
    ).toBe(201);
    expect(
      (await report(u, { 'expect-ct-report': { hostname: 'shop.example', port: 443, scts: [] } }, 'application/expect-ct-report+json'))
        .status,
    ).toBe(201);
    expect(
      (
        await report(
          u,
          { 'expect-staple-report': { hostname: 'shop.example', port: 443, 'response-status': 'ERROR_RESPONSE' } },
          'application/json',
        )
      ).status,
    ).toBe(201);
    const batch = [
      {
        type: 'deprecation',
        age: 5,
        url: 'https://shop.example/',
        user_agent: 'Chrome',
        body: { id: 'X', message: 'document.domain is deprecated', sourceFile: 'https://shop.example/app.js', lineNumber: 9 },
      },
    ];
    expect((await report(u, batch, 'application/reports+json')).status).toBe(201);
    const rows = await eventually(async () => {
      const r: Json[] = await stack.web.ds.query(
        `SELECT kind, event_type, message, service FROM events WHERE project_id = $1 ORDER BY message`,
        [u.personal.id],
      );
      return r.length === 4 ? r : null;
    });
    expect(rows).toEqual([
      { kind: 'error', event_type: 'expectct', message: "Expect-CT failed for 'shop.example'", service: null },
      { kind: 'error', event_type: 'expectstaple', message: "Expect-Staple failed for 'shop.example'", service: null },
      { kind: 'error', event_type: 'hpkp', message: "Public key pinning validation failed for 'shop.example'", service: null },
      {
        kind: 'log',
        event_type: 'deprecation',
        message: 'document.domain is deprecated at https://shop.example/app.js:9',
        service: 'browser-reports',
      },
    ]);
  });

  it('answers the preflight browsers send for a cross-origin application/csp-report or reports+json', async () => {
    const u = await createUser(stack.web.ds);
    const pre = await fetch(reportUrl(u), {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://shop.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Content-Type/i);
    const r = await fetch(reportUrl(u), {
      method: 'POST',
      headers: { Origin: 'https://shop.example', 'Content-Type': 'application/csp-report' },
      body: JSON.stringify(csp()),
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it('refuses what is not a report (400 naming it), bad JSON (400) and a wrong key (401), storing nothing', async () => {
    const u = await createUser(stack.web.ds);
    const notReport = await report(u, { hello: 'world' }, 'application/json');
    expect(notReport.status).toBe(400);
    expect(await notReport.json()).toMatchObject({ code: 'invalid_report', details: { field: '(body)' } });
    expect((await report(u, '{nope')).status).toBe(400);
    const wrongKey = await fetch(`${base}/api/${u.personal.id}/security/?sentry_key=flk_wrong`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/csp-report' },
      body: JSON.stringify(csp()),
    });
    expect(wrongKey.status).toBe(401);
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1`, [u.personal.id]);
    expect(n).toBe(0);
  });
});

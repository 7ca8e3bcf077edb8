import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { allRoutes, openApiRoutes } from './helpers/routes.ts';
import { startWeb } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

describe('operations endpoints', () => {
  it('/healthz answers while the process is up', async () => {
    expect((await stack.http.get('/healthz')).body).toEqual({ status: 'ok' });
  });

  it('/readyz checks PostgreSQL and Redis', async () => {
    const res = await stack.http.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('/metrics exposes HTTP, queue depth, processed jobs and ingest lag in Prometheus format', async () => {
    await stack.http.post('/api/events/').send({}); // one counted (401) ingest request
    const res = await stack.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    for (const name of [
      'faultline_http_requests_total{method="POST",route="/api/events/",status="401"}',
      'faultline_queue_jobs{queue="events",state="waiting"}',
      'faultline_queue_jobs_processed_total{queue="events",outcome="completed"}',
      'faultline_ingest_lag_seconds{queue="events"}',
      'faultline_process_cpu_seconds_total',
    ]) {
      expect(res.text).toContain(name);
    }
  });

  it('unknown routes answer 404 in the error shape', async () => {
    const res = await stack.http.get('/api/nothing-here/');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found' });
  });

  it('malformed JSON on an Express route is 400 malformed_json', async () => {
    const res = await stack.http.post('/api/auth/login/').set('Content-Type', 'application/json').send('{"email":');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('malformed_json');
  });

  it('/admin asks an anonymous visitor to log in', async () => {
    const res = await stack.http.get('/admin');
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/\/admin\/login$/);
  });
});

describe('API documentation', () => {
  it('/api/openapi.json documents every route the router and the ingest table serve, and nothing else', async () => {
    const res = await stack.http.get('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1/);
    const documented = openApiRoutes(doc);
    const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
    const served = allRoutes(stack.web);
    // Swagger UI and its init script are the documentation itself.
    const undocumented = served
      .filter((r) => !r.path.startsWith('/api/docs'))
      .map(key)
      .filter((k) => !documented.some((d) => key(d) === k));
    expect(undocumented).toEqual([]);
    // Documented paths are served: by Express or the ingest table (whose path patterns also take
    // aliases such as /api/otlp/v1/logs), or the live tail's WebSocket upgrade.
    const concrete = (path: string) => path.replace(/\{\}/g, '1');
    const servedSomehow = (d: { method: string; path: string }) =>
      served.some((r) => key(r) === key(d)) ||
      stack.web.ingest.some((r) => r.methods.includes(d.method.toUpperCase()) && r.path.test(concrete(d.path))) ||
      (d.method === 'get' && d.path === '/ws/logs');
    expect(documented.filter((d) => !servedSomehow(d)).map(key)).toEqual([]);
    expect(served.length).toBeGreaterThan(100); // the walk found the routers, not just the top level
    const event = doc.components.schemas.PantiesEvent;
    expect(Object.keys(event.properties)).toEqual(
      expect.arrayContaining(['event_id', 'exception_type', 'stacktrace', 'service_name', 'timestamp']),
    );
  });

  it('/api/docs/ serves Swagger UI pointed at the document', async () => {
    const page = await stack.http.get('/api/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui-bundle.js');
    const init = await stack.http.get('/api/docs/faultline-init.js');
    expect(init.text).toContain('/api/openapi.json');
    expect((await stack.http.get('/api/docs/swagger-ui-bundle.js')).status).toBe(200);
  });
});

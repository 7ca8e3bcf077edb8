/**
 * The admin's trace page in a real browser (Debian's headless Chromium): a trace sent by
 * the OpenTelemetry SDKs shows as a waterfall with its error, log and LLM call placed on
 * their spans, reached from a log, an error event and an LLM call; other projects' traces
 * show nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Page } from 'playwright-core';
import { createUser, type TestUser } from './helpers/factories.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { launchBrowser, login, shot } from './helpers/adminBrowser.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let owner: TestUser;
let traceId: string;

async function sendTrace(u: TestUser): Promise<string> {
  const resource = resourceFromAttributes({ 'service.name': 'storefront' });
  const tracing = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces`, headers: { 'x-faultline-key': u.apiKey } }))],
  });
  const logging = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${base}/v1/logs`, headers: { 'x-faultline-key': u.apiKey } }) }),
    ],
  });
  const tracer = tracing.getTracer('storefront');
  const root = tracer.startSpan('GET /product/42', { kind: SpanKind.SERVER });
  const inRoot = trace.setSpan(context.active(), root);
  logging.getLogger('storefront').emit({ severityNumber: SeverityNumber.WARN, body: 'stock cache cold', context: inRoot });
  const llm = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      attributes: { 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 50, 'gen_ai.usage.output_tokens': 5 },
    },
    inRoot,
  );
  llm.end();
  const stock = tracer.startSpan('GET stock-service', { kind: SpanKind.CLIENT }, inRoot);
  stock.recordException(Object.assign(new Error('stock service timed out'), { name: 'TimeoutError' }));
  stock.setStatus({ code: SpanStatusCode.ERROR });
  stock.end();
  root.end();
  await Promise.all([tracing.forceFlush(), logging.forceFlush()]);
  await Promise.all([tracing.shutdown(), logging.shutdown()]);
  return root.spanContext().traceId;
}

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  owner = await createUser(stack.web.ds);
  traceId = await sendTrace(owner);
  await eventually(async () => {
    const [n] = await stack.web.ds.query(
      `SELECT (SELECT count(*) FROM spans WHERE trace_id = $1)::int AS spans, (SELECT count(*) FROM events WHERE trace_id = $1)::int AS events, (SELECT count(*) FROM llm_logs WHERE trace_id = $1)::int AS llm`,
      [traceId],
    );
    return n.spans === 3 && n.events === 2 && n.llm === 1;
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await worker.close();
  await stack.web.close();
});

const idOf = async (sql: string) => String((await stack.web.ds.query(sql, [traceId]))[0].id);

async function openTraceFrom(page: Page, recordUrl: string) {
  await page.goto(recordUrl);
  const link = page.locator('[data-trace-link]').first();
  await link.waitFor();
  expect(await link.getAttribute('href')).toBe(`/admin/pages/trace?trace=${traceId}`);
  await Promise.all([page.waitForURL(/\/admin\/pages\/trace\?trace=/), link.click()]);
  await page.waitForSelector(`[data-trace="${traceId}"]`);
}

describe('the trace page', () => {
  it('shows the waterfall with the error, the log and the LLM call on their spans, reached from a log, an error and an LLM call', async () => {
    const page = await browser.context.newPage();
    await login(page, base, owner.user.email);

    await openTraceFrom(
      page,
      `${base}/admin/resources/Log/records/${await idOf(`SELECT id FROM events WHERE trace_id = $1 AND kind = 'log'`)}/show`,
    );
    const rows = page.locator('[data-trace-span]');
    expect(await rows.count()).toBe(3);
    expect(await rows.first().innerText()).toContain('GET /product/42');
    expect(await page.locator('[data-trace-counts]').innerText()).toContain('3 spans · 1 errors · 1 logs · 1 LLM calls');
    // Each marker sits in the row of the span it happened in.
    const spans = await stack.web.ds.query(`SELECT name, span_id FROM spans WHERE trace_id = $1`, [traceId]);
    const spanOf = (name: string) => spans.find((s: { name: string }) => s.name === name).span_id;
    expect(await page.locator(`[data-trace-span="${spanOf('GET stock-service')}"] [data-trace-error]`).count()).toBe(1);
    expect(await page.locator(`[data-trace-span="${spanOf('GET /product/42')}"] [data-trace-log]`).count()).toBe(1);
    expect(await page.locator(`[data-trace-span="${spanOf('chat gpt-4o-mini')}"] [data-trace-llm]`).count()).toBe(1);
    const listed = await page.locator('[data-trace-items]').innerText();
    for (const text of ['TimeoutError: stock service timed out', 'WARNING stock cache cold', 'gpt-4o-mini · 55 tokens'])
      expect(listed).toContain(text);
    await shot(page, 'trace');

    await openTraceFrom(
      page,
      `${base}/admin/resources/Event/records/${await idOf(`SELECT id FROM events WHERE trace_id = $1 AND kind = 'error'`)}/show`,
    );
    await openTraceFrom(page, `${base}/admin/resources/LlmLog/records/${await idOf(`SELECT id FROM llm_logs WHERE trace_id = $1`)}/show`);
    await page.close();
  });

  it("shows a stranger nothing of another project's trace", async () => {
    const stranger = await createUser(stack.web.ds);
    const page = await browser.context.newPage();
    await login(page, base, stranger.user.email);
    await page.goto(`${base}/admin/pages/trace?trace=${traceId}`);
    await page.waitForSelector('[data-trace-error-message]');
    expect(await page.locator('[data-trace-error-message]').innerText()).toMatch(/not found/i);
    expect(await page.locator('[data-trace-span]').count()).toBe(0);
    await page.close();
  });
});

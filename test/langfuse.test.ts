/**
 * Langfuse's own SDK (@langfuse/otel + @langfuse/tracing, v5), pointed at Faultline with
 * nothing but baseUrl and a key pair whose secret is a Faultline API key: generations
 * become LLM logs (model, input, output, usage, metadata), on their trace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { setLangfuseTracerProvider, startObservation } from '@langfuse/tracing';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser } from './helpers/factories.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
});
afterAll(async () => {
  setLangfuseTracerProvider(null);
  await worker.close();
  await stack.web.close();
});

function langfuse(secretKey: string) {
  const processor = new LangfuseSpanProcessor({
    publicKey: 'pk-lf-anything',
    secretKey,
    baseUrl: base,
    environment: 'production',
    release: 'v7',
  });
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  setLangfuseTracerProvider(provider);
  return provider;
}

describe('the Langfuse SDK', () => {
  it('records a generation with model and usage as an LLM log on its trace', async () => {
    const u = await createUser(stack.web.ds);
    const provider = langfuse(u.apiKey);
    const request = startObservation('answer-question', { input: { question: 'capital of France?' } });
    const generation = request.startObservation(
      'llm-call',
      {
        model: 'claude-3-5-sonnet-20241022',
        input: [{ role: 'user', content: 'What is the capital of France?' }],
        modelParameters: { temperature: 0.2 },
      },
      { asType: 'generation' },
    );
    generation.update({
      output: { role: 'assistant', content: 'Paris.' },
      usageDetails: { input: 120, output: 8, total: 128 },
      metadata: { feature: 'geo-quiz', tenant: 'acme' },
    });
    generation.end();
    const failed = request.startObservation('llm-retry', { model: 'gpt-4o', input: 'again?' }, { asType: 'generation' });
    failed.update({ level: 'ERROR', statusMessage: 'rate limited by provider' });
    failed.end();
    request.end();
    await provider.forceFlush();
    await provider.shutdown();
    const traceId = request.otelSpan.spanContext().traceId;

    const logs = await eventually(async () => {
      const rows = await stack.web.ds.query(`SELECT * FROM llm_logs WHERE project_id = $1 ORDER BY "timestamp", model`, [u.personal.id]);
      return rows.length === 2 ? rows : null;
    });
    const [ok, err] = logs;
    expect(ok).toMatchObject({
      model: 'claude-3-5-sonnet-20241022',
      prompt_tokens: 120,
      completion_tokens: 8,
      total_tokens: 128,
      trace_id: traceId,
      span_id: generation.otelSpan.spanContext().spanId,
      origin: 'langfuse',
      error: null,
    });
    expect(JSON.parse(ok.query)).toEqual([{ role: 'user', content: 'What is the capital of France?' }]);
    expect(JSON.parse(ok.response)).toEqual({ role: 'assistant', content: 'Paris.' });
    expect(ok.metadata).toMatchObject({
      operation: 'generation',
      model_parameters: { temperature: 0.2 },
      metadata: { feature: 'geo-quiz', tenant: 'acme' },
    });
    expect(ok.latency_ms).toBeGreaterThanOrEqual(0);
    expect(err).toMatchObject({ model: 'gpt-4o', query: 'again?', error: 'rate limited by provider', trace_id: traceId });

    // Every observation is a span of the trace; only generations are LLM calls.
    const spans = await eventually(async () => {
      const rows = await stack.web.ds.query(
        `SELECT name, parent_span_id, span_id, environment FROM spans WHERE project_id = $1 AND trace_id = $2 ORDER BY name`,
        [u.personal.id, traceId],
      );
      return rows.length === 3 ? rows : null;
    });
    const root = spans.find((s: { name: string }) => s.name === 'answer-question');
    expect(root.environment).toBe('production'); // Langfuse sets it per span
    expect(spans.filter((s: { parent_span_id: string }) => s.parent_span_id === root.span_id).map((s: { name: string }) => s.name)).toEqual(
      ['llm-call', 'llm-retry'],
    );
  });

  it('a secret key that is no Faultline API key is refused (401)', async () => {
    const r = await fetch(`${base}/api/public/otel/v1/traces`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from('pk-lf-x:sk-lf-not-a-key').toString('base64')}` },
      body: JSON.stringify({ resourceSpans: [] }),
    });
    expect(r.status).toBe(401);
  });
});

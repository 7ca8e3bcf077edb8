/** Which spans are LLM calls, and what of them an LLM log keeps, across the conventions in use. */
import { describe, expect, it } from '@jest/globals';
import { genaiToLlmLog } from '../src/domain/ingest/formats/otlp/genai.ts';
import type { SpanRecord } from '../src/domain/spans/record.ts';

const now = '2025-01-01T00:00:00.000000Z';
function span(attributes: Record<string, unknown>, extra: Partial<SpanRecord> = {}): SpanRecord {
  return {
    project_id: 1,
    trace_id: 'a'.repeat(32),
    span_id: 'b'.repeat(16),
    parent_span_id: null,
    name: 'call',
    kind: 'client',
    start_time: now,
    end_time: now,
    duration_ms: 12.5,
    status_code: 'unset',
    status_message: null,
    service: 'svc',
    environment: null,
    attributes,
    resource: {},
    scope: null,
    events: [],
    links: [],
    origin: 'otlp',
    received_at: now,
    ...extra,
  };
}
const map = (s: SpanRecord, maxTextBytes = 1 << 20) => genaiToLlmLog(s, now, { maxTextBytes });

describe('genaiToLlmLog', () => {
  it('is null for spans that are not model calls: plain spans, tools, agents, Langfuse spans', () => {
    expect(map(span({ 'http.method': 'GET' }))).toBeNull();
    expect(map(span({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search' }))).toBeNull();
    expect(map(span({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.request.model': 'gpt-4o' }))).toBeNull();
    expect(map(span({ 'langfuse.observation.type': 'span', 'gen_ai.request.model': 'gpt-4o' }))).toBeNull();
  });

  it('reads prompts and completions from the event forms and the flattened attributes of older instrumentations', () => {
    const fromEvents = map(
      span(
        {
          'gen_ai.system': 'anthropic',
          'gen_ai.request.model': 'claude-3-haiku',
          'gen_ai.usage.prompt_tokens': 10,
          'gen_ai.usage.completion_tokens': 5,
        },
        {
          events: [
            { name: 'gen_ai.system.message', time: now, attributes: { content: 'Be brief.' } },
            { name: 'gen_ai.user.message', time: now, attributes: { content: 'Hi' } },
            { name: 'gen_ai.choice', time: now, attributes: { message: '{"role":"assistant","content":"Hello"}' } },
          ],
        },
      ),
    )!;
    expect(JSON.parse(fromEvents.query)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(JSON.parse(fromEvents.response)).toEqual({ role: 'assistant', content: 'Hello' });
    expect(fromEvents).toMatchObject({
      source: 'anthropic',
      model: 'claude-3-haiku',
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      latency_ms: 12.5,
    });

    const flat = map(
      span({
        'gen_ai.request.model': 'gpt-3.5-turbo',
        'gen_ai.prompt.0.role': 'user',
        'gen_ai.prompt.0.content': 'A?',
        'gen_ai.completion.0.content': 'B.',
      }),
    )!;
    expect(JSON.parse(flat.query)).toEqual([{ role: 'user', content: 'A?' }]);
    expect(JSON.parse(flat.response)).toEqual([{ content: 'B.' }]);
  });

  it("reads the Vercel AI SDK's and Sentry's ai.* attributes", () => {
    const r = map(
      span(
        {
          'ai.model.id': 'gpt-4o-mini',
          'ai.model.provider': 'openai.chat',
          'ai.usage.promptTokens': 7,
          'ai.usage.completionTokens': 3,
          'ai.prompt': '{"prompt":"Hi"}',
          'ai.response.text': 'Yo',
        },
        { origin: 'sentry' },
      ),
    )!;
    expect(r).toMatchObject({
      model: 'gpt-4o-mini',
      source: 'openai.chat',
      prompt_tokens: 7,
      completion_tokens: 3,
      total_tokens: 10,
      response: 'Yo',
      origin: 'sentry',
    });
    expect(JSON.parse(r.query)).toEqual({ prompt: 'Hi' });
  });

  it('counts Langfuse cached input inside prompt_tokens, keeps the error of a failed span, cuts long texts and says so', () => {
    const lf = map(
      span({
        'langfuse.observation.type': 'generation',
        'langfuse.observation.model.name': 'gpt-4o',
        'langfuse.observation.usage_details': '{"input":100,"input_cached_tokens":50,"output":10}',
      }),
    )!;
    expect(lf).toMatchObject({ prompt_tokens: 150, cached_tokens: 50, completion_tokens: 10, total_tokens: 160, origin: 'langfuse' });
    const failed = map(span({ 'gen_ai.request.model': 'gpt-4o' }, { status_code: 'error', status_message: '429 Too Many Requests' }))!;
    expect(failed.error).toBe('429 Too Many Requests');
    const long = map(span({ 'gen_ai.request.model': 'm', 'gen_ai.prompt': 'é'.repeat(100) }), 51)!;
    expect(Buffer.byteLength(long.query)).toBeLessThanOrEqual(51);
    expect(long.query).toBe('é'.repeat(25));
    expect(long.metadata.truncated).toEqual({ query: true, response: false });
  });
});

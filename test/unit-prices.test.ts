/** Which price a model name gets, and what a call costs. */
import { describe, expect, it } from '@jest/globals';
import { costOf, DEFAULT_LAYER, matchIn, resolvePrice, type Price } from '../src/domain/llm/prices.ts';

const override = (model: string, input: number, output: number, source: Price['source'] = 'project'): Price => ({
  id: 1,
  project: 1,
  model,
  input_per_million: input,
  output_per_million: output,
  cached_input_per_million: null,
  source,
});

describe('the built-in table', () => {
  it.each([
    ['gpt-4o-2024-08-06', 'gpt-4o*'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini*'],
    ['GPT-4o-Mini', 'gpt-4o-mini*'],
    ['openai/gpt-4.1-nano', 'gpt-4.1-nano*'],
    ['gpt-4', 'gpt-4'],
    ['gpt-4-0613', 'gpt-4-0*'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet*'],
    ['anthropic.claude-3-haiku-20240307-v1:0', 'claude-3-haiku*'],
    ['models/gemini-1.5-pro-002', 'gemini-1.5-pro*'],
    ['gemini-2.5-flash-lite', 'gemini-2.5-flash-lite*'],
    ['meta-llama/Llama-3.3-70B-Instruct-Turbo', '*llama-3.3-70b*'],
    ['deepseek-chat', 'deepseek-chat*'],
  ])('prices %s as %s', (model, pattern) => {
    expect(matchIn(DEFAULT_LAYER, model)?.model).toBe(pattern);
  });

  it('knows no price for a model it has never heard of', () => {
    expect(resolvePrice({ project: [], instance: [] }, 'my-finetune-v3')).toBeNull();
    expect(resolvePrice({ project: [], instance: [] }, null)).toBeNull();
  });
});

describe('layers', () => {
  it("a project's override beats the instance's, which beats the defaults; exact names beat patterns within a layer", () => {
    const instance = [override('gpt-4o*', 1, 1, 'instance')];
    const project = [override('gpt-4o*', 2, 2), override('gpt-4o-2024-08-06', 3, 3)];
    expect(resolvePrice({ project, instance }, 'gpt-4o-2024-08-06')?.input_per_million).toBe(3);
    expect(resolvePrice({ project, instance }, 'gpt-4o-2024-05-13')?.input_per_million).toBe(2);
    expect(resolvePrice({ project: [], instance }, 'gpt-4o-2024-05-13')?.input_per_million).toBe(1);
    expect(resolvePrice({ project: [], instance: [] }, 'gpt-4o-2024-05-13')?.input_per_million).toBe(2.5);
  });
});

describe('costOf', () => {
  const price = { input_per_million: 2.5, output_per_million: 10, cached_input_per_million: 1.25 };
  it('prices uncached input, cached input and output each at their rate', () => {
    expect(costOf(price, { prompt_tokens: 1000, completion_tokens: 500, cached_tokens: 400 })).toBeCloseTo(
      (600 * 2.5 + 400 * 1.25 + 500 * 10) / 1e6,
      10,
    );
    expect(costOf({ ...price, cached_input_per_million: null }, { prompt_tokens: 1000, cached_tokens: 400 })).toBeCloseTo(
      (1000 * 2.5) / 1e6,
      10,
    );
  });
  it('is null without input or output counts (a total alone does not say how much was input)', () => {
    expect(costOf(price, {})).toBeNull();
    expect(costOf(price, { completion_tokens: 100 })).toBeCloseTo(0.001, 10);
  });
});

/**
 * Built-in LLM prices: US dollars per million tokens (input, output, cached input), from
 * the providers' public list prices (standard tier, shortest context band) as of late
 * 2025. They are defaults, not truth: providers change prices, and contracts differ —
 * override them per instance or per project (POST /api/llm-prices/, or the admin's LLM
 * prices). A `*` matches any characters; the most specific (longest) pattern wins, so
 * `gpt-4o-mini*` beats `gpt-4o*`. `cached_input` null: cached tokens cost as input.
 */
export interface DefaultPrice {
  model: string;
  input: number;
  output: number;
  cached_input: number | null;
}

const p = (model: string, input: number, output: number, cached_input: number | null = null): DefaultPrice => ({
  model,
  input,
  output,
  cached_input,
});

export const DEFAULT_PRICES: readonly DefaultPrice[] = [
  // OpenAI
  p('gpt-5*', 1.25, 10, 0.125),
  p('gpt-5-mini*', 0.25, 2, 0.025),
  p('gpt-5-nano*', 0.05, 0.4, 0.005),
  p('gpt-4.1*', 2, 8, 0.5),
  p('gpt-4.1-mini*', 0.4, 1.6, 0.1),
  p('gpt-4.1-nano*', 0.1, 0.4, 0.025),
  p('gpt-4o*', 2.5, 10, 1.25),
  p('gpt-4o-mini*', 0.15, 0.6, 0.075),
  p('gpt-4-turbo*', 10, 30),
  p('gpt-4', 30, 60),
  p('gpt-4-0*', 30, 60),
  p('gpt-4-32k*', 60, 120),
  p('gpt-3.5-turbo*', 0.5, 1.5),
  p('o1*', 15, 60, 7.5),
  p('o1-mini*', 1.1, 4.4, 0.55),
  p('o3*', 2, 8, 0.5),
  p('o3-mini*', 1.1, 4.4, 0.55),
  p('o4-mini*', 1.1, 4.4, 0.275),
  p('text-embedding-3-small*', 0.02, 0),
  p('text-embedding-3-large*', 0.13, 0),
  p('text-embedding-ada-002*', 0.1, 0),
  // Anthropic (cache reads at a tenth of input)
  p('claude-opus-4-5*', 5, 25, 0.5),
  p('claude-opus-4*', 15, 75, 1.5),
  p('claude-3-opus*', 15, 75, 1.5),
  p('claude-sonnet-4*', 3, 15, 0.3),
  p('claude-3-7-sonnet*', 3, 15, 0.3),
  p('claude-3-5-sonnet*', 3, 15, 0.3),
  p('claude-3-sonnet*', 3, 15, 0.3),
  p('claude-haiku-4-5*', 1, 5, 0.1),
  p('claude-3-5-haiku*', 0.8, 4, 0.08),
  p('claude-3-haiku*', 0.25, 1.25, 0.03),
  // Google
  p('gemini-2.5-pro*', 1.25, 10, 0.31),
  p('gemini-2.5-flash*', 0.3, 2.5, 0.075),
  p('gemini-2.5-flash-lite*', 0.1, 0.4, 0.025),
  p('gemini-2.0-flash*', 0.1, 0.4, 0.025),
  p('gemini-2.0-flash-lite*', 0.075, 0.3),
  p('gemini-1.5-pro*', 1.25, 5, 0.3125),
  p('gemini-1.5-flash*', 0.075, 0.3, 0.01875),
  // Open models, at typical hosted prices
  p('*llama-3.1-8b*', 0.18, 0.18),
  p('*llama-3.1-70b*', 0.88, 0.88),
  p('*llama-3.3-70b*', 0.88, 0.88),
  p('*llama-3.1-405b*', 3.5, 3.5),
  p('mistral-large*', 2, 6),
  p('mistral-small*', 0.2, 0.6),
  p('*mixtral-8x7b*', 0.6, 0.6),
  p('deepseek-chat*', 0.27, 1.1, 0.07),
  p('deepseek-v3*', 0.27, 1.1, 0.07),
  p('deepseek-reasoner*', 0.55, 2.19, 0.14),
  p('deepseek-r1*', 0.55, 2.19, 0.14),
  p('*qwen2.5-72b*', 1.2, 1.2),
];

import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';

const projectParam = z.coerce
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);
const perMillion = (what: string) =>
  z
    .number()
    .min(0)
    .max(1_000_000)
    .meta({ description: `US dollars per million ${what}` });

export const PriceListQuery = z.object({
  project: projectParam
    .optional()
    .meta({ description: 'The prices that apply in this project (its overrides first); without it, instance-wide' }),
  model: z.string().min(1).max(200).optional().meta({ description: 'Only the price this model gets (0 or 1 result)' }),
});

export const PriceIn = z
  .object({
    project: projectParam
      .nullable()
      .optional()
      .meta({ description: 'A project you administer; null or absent: instance-wide (staff only)' }),
    model: z.string().trim().min(1).max(200).meta({
      description: 'A model name, or a pattern with * (e.g. "gpt-4o*"); matched without case, also without a provider prefix ("openai/…")',
    }),
    input_per_million: perMillion('input tokens'),
    output_per_million: perMillion('output tokens'),
    cached_input_per_million: perMillion('cached input tokens')
      .nullable()
      .optional()
      .meta({ description: 'US dollars per million cached input tokens; null: as input' }),
  })
  .meta({
    id: 'LlmPriceIn',
    example: { project: 1, model: 'gpt-4o*', input_per_million: 2, output_per_million: 8, cached_input_per_million: 1 },
  });
export const PricePatch = PriceIn.omit({ project: true }).partial().meta({ id: 'LlmPricePatch' });

export const PriceOut = z
  .object({
    id: z.number().int().nullable().meta({ description: 'null for built-in defaults (override them with POST)' }),
    project: z.number().int().nullable(),
    model: z.string(),
    input_per_million: z.number(),
    output_per_million: z.number(),
    cached_input_per_million: z.number().nullable(),
    source: z.enum(['project', 'instance', 'default']),
  })
  .meta({ id: 'LlmPrice' });
const PriceList = z
  .object({ count: z.number().int(), next: z.null(), previous: z.null(), results: z.array(PriceOut) })
  .meta({ id: 'LlmPriceList' });
export const PriceIdParam = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
});

export const StatsQuery = z.object({
  project: projectParam.optional(),
  model: z.string().max(200).optional(),
  date_from: z.string().max(40).optional().meta({ description: 'ISO date or date-time (inclusive); default: 30 days ago' }),
  date_to: z.string().max(40).optional().meta({ description: 'ISO date (inclusive) or date-time; default: now' }),
});
const StatsRow = z.object({
  model: z.string().nullable(),
  calls: z.number().int(),
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cached_tokens: z.number().int(),
  cost: z.number().meta({ description: 'US dollars' }),
  unpriced_calls: z.number().int().meta({ description: 'Calls without a cost (model without a price, or tokens unknown)' }),
  errors: z.number().int(),
  error_share: z.number().meta({ description: 'errors / calls' }),
  latency_p50_ms: z.number().nullable(),
  latency_p95_ms: z.number().nullable(),
  latency_p99_ms: z.number().nullable(),
});
const Stats = z
  .object({ from: z.string(), to: z.string(), by_model: z.array(StatsRow), by_day: z.array(StatsRow.extend({ date: z.string() })) })
  .meta({ id: 'LlmStats' });

const user = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/llm-prices/',
  tags: ['llm'],
  summary: "The LLM price table that applies: a project's overrides, then the instance's, then the built-in defaults",
  security: user,
  request: { query: PriceListQuery },
  responses: { 200: jsonResponse(PriceList, 'Prices, most specific layer first'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'post',
  path: '/api/llm-prices/',
  tags: ['llm'],
  summary: 'Override a price for a project (admin and up) or the instance (staff); applies to calls stored afterwards (within 30 s)',
  security: user,
  request: { body: jsonBody(PriceIn) },
  responses: { 201: jsonResponse(PriceOut, 'Created'), ...errorResponses(400, 401, 403, 404, 409) },
});
for (const method of ['patch', 'delete'] as const) {
  registry.registerPath({
    method,
    path: '/api/llm-prices/{id}/',
    tags: ['llm'],
    summary: method === 'patch' ? 'Change a price override' : 'Remove a price override (the next layer applies again)',
    security: user,
    request: { params: PriceIdParam, ...(method === 'patch' ? { body: jsonBody(PricePatch) } : {}) },
    responses: {
      ...(method === 'patch' ? { 200: jsonResponse(PriceOut, 'Changed') } : { 204: { description: 'Removed' } }),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  });
}
registry.registerPath({
  method: 'get',
  path: '/api/llm-logs/stats/',
  tags: ['llm'],
  summary: 'LLM usage by model and by day: calls, tokens, cost, error share, latency percentiles',
  security: user,
  request: { query: StatsQuery },
  responses: { 200: jsonResponse(Stats, 'Stats over [date_from, date_to]'), ...errorResponses(400, 401, 404) },
});

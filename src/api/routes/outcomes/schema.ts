import { z } from 'zod';
import { bearerAuth, errorResponses, jsonBody, jsonResponse, registry } from '../../openapi.ts';
import { ProjectIdParam } from '../projects/schema.ts';
import { CATEGORIES, OUTCOMES } from '../../../domain/outcomes/categories.ts';
import { FILTER_IDS } from '../../../domain/outcomes/filters.ts';
import { PATTERN_LIMITS } from '../../../domain/outcomes/inboundFilters.ts';

export const OutcomeStatsQuery = z
  .object({
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({ description: 'Start (inclusive, floored to the interval); default: 24 hours (hour) or 14 days (day) before `until`' }),
    until: z.iso.datetime({ offset: true }).optional().meta({ description: 'End (rounded up to the interval); default now' }),
    interval: z.enum(['hour', 'day', '1h', '1d']).default('hour'),
    category: z.enum(CATEGORIES).optional(),
    outcome: z.enum(OUTCOMES).optional(),
  })
  .meta({ id: 'OutcomeStatsQuery' });

const Pattern = z
  .string()
  .trim()
  .min(1)
  .max(PATTERN_LIMITS.chars)
  .refine((p) => !/[\r\n]/.test(p), 'one line per pattern');
const Patterns = z.array(Pattern).max(PATTERN_LIMITS.count);

export const InboundFiltersBody = z
  .object({
    legacy_browsers: z.boolean().optional().meta({
      description: 'Internet Explorer ≤ 11, Edge < 79, Opera < 15, Opera Mini < 8, the stock Android browser before Android 4, Safari < 6',
    }),
    web_crawlers: z.boolean().optional().meta({ description: 'User agents of known bots and crawlers (isbot)' }),
    browser_extensions: z.boolean().optional().meta({ description: "Errors from browser extensions and injected scripts (Sentry's list)" }),
    localhost: z.boolean().optional().meta({ description: 'Events from 127.0.0.1 / ::1 or a localhost URL or server name' }),
    error_messages: Patterns.optional().meta({
      description: 'Globs (`*`), case-insensitive, matched against `Type: value` and the message; [] turns the filter off',
    }),
    releases: Patterns.optional().meta({ description: 'Globs matched against the release; [] turns the filter off' }),
  })
  .strict()
  .meta({
    id: 'InboundFiltersRequest',
    example: { legacy_browsers: true, web_crawlers: true, error_messages: ['*ResizeObserver loop*'], releases: ['*-dev'] },
  });

const Group = z.object({
  by: z.object({ category: z.string(), outcome: z.enum(OUTCOMES), reason: z.string() }),
  totals: z.object({ 'sum(quantity)': z.number().int() }),
  series: z.object({ 'sum(quantity)': z.array(z.number().int()) }),
});
export const OutcomeStatsOut = z
  .object({
    start: z.string(),
    end: z.string(),
    interval: z.enum(['1h', '1d']),
    intervals: z.array(z.string()).meta({ description: 'Start of each bucket (UTC); every series has one value per bucket' }),
    totals: z.object({
      quantity: z.number().int(),
      by_outcome: z.record(z.string(), z.number().int()),
      by_category: z.record(z.string(), z.number().int()),
    }),
    groups: z.array(Group),
  })
  .meta({ id: 'OutcomeStats' });

export const InboundFiltersOut = z
  .object({
    project: z.number().int(),
    filters: z.array(z.object({ id: z.enum(FILTER_IDS), active: z.boolean(), patterns: z.array(z.string()).optional() })),
    legacy_browsers: z.boolean(),
    web_crawlers: z.boolean(),
    browser_extensions: z.boolean(),
    localhost: z.boolean(),
    error_messages: z.array(z.string()),
    releases: z.array(z.string()),
  })
  .meta({ id: 'InboundFilters' });

const security = [{ [bearerAuth.name]: [] }];
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/stats/outcomes/',
  tags: ['outcomes'],
  summary:
    "What was dropped and why: the project's outcomes (accepted, filtered, rate limited, invalid, client discards) by category, outcome and reason, per hour or day",
  security,
  request: { params: ProjectIdParam, query: OutcomeStatsQuery },
  responses: { 200: jsonResponse(OutcomeStatsOut, 'Outcomes'), ...errorResponses(400, 401, 404) },
});
registry.registerPath({
  method: 'get',
  path: '/api/projects/{id}/inbound-filters/',
  tags: ['outcomes'],
  summary: "The project's inbound filters (Sentry's standard ones); events they drop are counted as `filtered` outcomes, not stored",
  security,
  request: { params: ProjectIdParam },
  responses: { 200: jsonResponse(InboundFiltersOut, 'Inbound filters'), ...errorResponses(401, 404) },
});
registry.registerPath({
  method: 'put',
  path: '/api/projects/{id}/inbound-filters/',
  tags: ['outcomes'],
  summary: 'Turn inbound filters on or off (project admins); fields left out keep their value',
  security,
  request: { params: ProjectIdParam, body: jsonBody(InboundFiltersBody) },
  responses: { 200: jsonResponse(InboundFiltersOut, 'Inbound filters'), ...errorResponses(400, 401, 403, 404) },
});

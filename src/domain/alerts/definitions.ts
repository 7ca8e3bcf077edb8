import { z } from 'zod';
import { LEVELS, normalizeLevel } from '../levels.ts';
import { invalid, problemsOf, type FieldProblem } from './validation.ts';

/**
 * What an alert rule is: a trigger with its params, filters, channels and noise control.
 * The API (src/api/routes/alerts/schema.ts) and the admin validate with these.
 */
export const TRIGGERS = [
  'issue.new',
  'issue.regressed',
  'issue.frequency',
  'events.threshold',
  'llm.threshold',
  'dump.received',
  'monitor.missed',
  'monitor.failed',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** Rules counted over a window by the repeatable evaluate-alerts job (src/domain/alerts/windows.ts). */
export const WINDOWED_TRIGGERS = ['issue.frequency', 'events.threshold', 'llm.threshold'] as const satisfies readonly Trigger[];
export type WindowedTrigger = (typeof WINDOWED_TRIGGERS)[number];
export const isWindowed = (t: string): t is WindowedTrigger => (WINDOWED_TRIGGERS as readonly string[]).includes(t);

export const LLM_METRICS = ['error_rate', 'p95_latency_ms', 'tokens', 'cost'] as const;
export type LlmMetric = (typeof LLM_METRICS)[number];

const windowMinutes = z.number().int().min(1, 'must be at least 1 minute').max(1440, 'at most 1440 minutes (a day)');
const count = z.number().int().min(1, 'must be at least 1').max(1_000_000_000);
const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'a monitor slug: letters, digits, - and _');

export const TRIGGER_PARAMS = {
  'issue.new': z.strictObject({}),
  'issue.regressed': z.strictObject({}),
  'issue.frequency': z.strictObject({ threshold: count, window_minutes: windowMinutes }),
  'events.threshold': z.strictObject({
    kind: z.enum(['error', 'log', 'any']).default('any').meta({ description: 'Count error events, logs, or both' }),
    threshold: count,
    window_minutes: windowMinutes,
  }),
  'llm.threshold': z
    .strictObject({
      metric: z.enum(LLM_METRICS),
      threshold: z.number().positive('must be above 0').max(1e12),
      window_minutes: windowMinutes,
      model: z.string().min(1).max(200).optional().meta({ description: 'Only calls to this model' }),
      per_model: z.boolean().default(false).meta({ description: 'Evaluate each model on its own' }),
      min_calls: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .default(10)
        .meta({ description: 'error_rate and p95_latency_ms need at least this many calls in the window' }),
    })
    .superRefine((p, ctx) => {
      if (p.metric === 'error_rate' && p.threshold > 1)
        ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'error_rate is a share between 0 and 1 (0.2 = 20%)' });
    }),
  'dump.received': z.strictObject({
    new_crash_only: z.boolean().default(false).meta({ description: 'Only the first dump with a given crash reason and main module' }),
  }),
  'monitor.missed': z.strictObject({
    monitors: z.array(slug).min(1).max(100).optional().meta({ description: 'Slugs; default every monitor of the project' }),
  }),
  'monitor.failed': z.strictObject({ monitors: z.array(slug).min(1).max(100).optional() }),
} as const satisfies Record<Trigger, z.ZodType>;

export type TriggerParams<T extends Trigger> = z.output<(typeof TRIGGER_PARAMS)[T]>;

const level = z.string().transform((v, ctx) => {
  const l = normalizeLevel(v);
  if (!l) {
    ctx.addIssue({ code: 'custom', message: `unknown level "${v}"; one of ${LEVELS.join(', ')}` });
    return z.NEVER;
  }
  return l;
});

export const FiltersSchema = z.strictObject({
  environments: z
    .array(z.string().trim().min(1).max(100))
    .min(1)
    .max(50)
    .optional()
    .meta({ description: 'Any of these (case-insensitive)' }),
  min_level: level.optional().meta({ description: `At least this level: ${LEVELS.join(' < ')}` }),
  release: z.string().trim().min(1).max(200).optional(),
  tags: z
    .array(z.string().regex(/^[^=\s][^=]*=.*$/, 'expected key=value'))
    .min(1)
    .max(20)
    .optional()
    .meta({ description: 'Every one of these, as key=value' }),
  services: z
    .array(z.string().trim().min(1).max(200))
    .min(1)
    .max(50)
    .optional()
    .meta({ description: 'Service (or log source; LLM source) — any of these' }),
  search: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Every word appears in the message or exception type (case-insensitive)' }),
});
export type Filters = z.output<typeof FiltersSchema>;

const EVENT_FILTERS: Array<keyof Filters> = ['environments', 'min_level', 'release', 'tags', 'services'];
/** Which filters make sense for which trigger; any other is refused, not silently ignored. */
export const FILTERS_FOR: Record<Trigger, Array<keyof Filters>> = {
  'issue.new': EVENT_FILTERS,
  'issue.regressed': EVENT_FILTERS,
  'issue.frequency': EVENT_FILTERS,
  'events.threshold': [...EVENT_FILTERS, 'search'],
  'llm.threshold': ['services'],
  'dump.received': [],
  'monitor.missed': ['environments'],
  'monitor.failed': ['environments'],
};

const id = z
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);

export const RuleBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  trigger: z.enum(TRIGGERS),
  params: z.record(z.string(), z.unknown()).default({}).meta({ description: 'Depends on the trigger (see the README table)' }),
  filters: z.record(z.string(), z.unknown()).default({}),
  channels: z.array(id).max(20).default([]).meta({ description: 'Alert channel ids of this project' }),
  cooldown_minutes: z
    .number()
    .int()
    .min(0)
    .max(10080)
    .default(0)
    .meta({ description: 'After a message about a subject (an issue, a model, a monitor, or the rule), stay quiet about it this long' }),
  digest_minutes: z
    .number()
    .int()
    .min(0)
    .max(1440)
    .default(0)
    .meta({ description: 'Gather all of the rule’s firings over this many minutes into one message (0: send each)' }),
  snoozed_until: z.iso
    .datetime({ offset: true })
    .nullable()
    .default(null)
    .meta({ description: 'Firings until then are recorded, not sent' }),
  enabled: z.boolean().default(true),
});
export type RuleBody = z.output<typeof RuleBodySchema>;

/** PATCH: any field; what is not sent stays. */
export const RulePatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  trigger: z.enum(TRIGGERS).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  filters: z.record(z.string(), z.unknown()).optional(),
  channels: z.array(id).max(20).optional(),
  cooldown_minutes: z.number().int().min(0).max(10080).optional(),
  digest_minutes: z.number().int().min(0).max(1440).optional(),
  snoozed_until: z.iso.datetime({ offset: true }).nullable().optional(),
  enabled: z.boolean().optional(),
});
export type RulePatch = z.output<typeof RulePatchSchema>;

export interface RuleDefinition {
  name: string;
  trigger: Trigger;
  params: Record<string, unknown>;
  filters: Filters;
  channels: number[];
  cooldownMinutes: number;
  digestMinutes: number;
  snoozedUntil: Date | null;
  enabled: boolean;
}

/** A whole rule, checked field by field: params against its trigger, filters against what the trigger supports. */
export function defineRule(body: RuleBody): RuleDefinition {
  const problems: FieldProblem[] = [];
  const paramsResult = TRIGGER_PARAMS[body.trigger].safeParse(body.params);
  if (!paramsResult.success) problems.push(...problemsOf(paramsResult.error.issues, ['params']));
  const filtersResult = FiltersSchema.safeParse(body.filters);
  if (!filtersResult.success) problems.push(...problemsOf(filtersResult.error.issues, ['filters']));
  else {
    for (const key of Object.keys(filtersResult.data) as Array<keyof Filters>) {
      if (filtersResult.data[key] !== undefined && !FILTERS_FOR[body.trigger].includes(key)) {
        problems.push({
          path: `filters.${key}`,
          message: `not a filter of ${body.trigger} (it takes: ${FILTERS_FOR[body.trigger].join(', ') || 'none'})`,
        });
      }
    }
  }
  if (problems.length) throw invalid(problems);
  return {
    name: body.name,
    trigger: body.trigger,
    params: paramsResult.data as Record<string, unknown>,
    filters: filtersResult.data!,
    channels: [...new Set(body.channels)],
    cooldownMinutes: body.cooldown_minutes,
    digestMinutes: body.digest_minutes,
    snoozedUntil: body.snoozed_until ? new Date(body.snoozed_until) : null,
    enabled: body.enabled,
  };
}

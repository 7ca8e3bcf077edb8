import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

/**
 * Cron monitor schedules, as Sentry's monitor_config has them: a crontab (5 fields, or
 * @hourly/@daily/@weekly/@monthly/@yearly) in a timezone, or an interval of N minutes,
 * hours, days, weeks, months or years counted from the last check-in.
 */
export const INTERVAL_UNITS = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type IntervalUnit = (typeof INTERVAL_UNITS)[number];

const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

export function crontabProblem(expr: string): string | null {
  const e = expr.trim();
  if (ALIASES.has(e.toLowerCase())) return null;
  if (e.split(/\s+/).length !== 5) return 'a crontab has 5 fields: minute hour day-of-month month day-of-week';
  try {
    CronExpressionParser.parse(e, { currentDate: new Date() }).next();
    return null;
  } catch (err) {
    return `not a valid crontab: ${(err as Error).message}`;
  }
}

export function timezoneValid(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const ScheduleSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('crontab'),
    value: z
      .string()
      .max(100)
      .superRefine((v, ctx) => {
        const problem = crontabProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  }),
  z.strictObject({ type: z.literal('interval'), value: z.number().int().min(1).max(10_000), unit: z.enum(INTERVAL_UNITS) }),
]);
export type Schedule = z.output<typeof ScheduleSchema>;

export const TimezoneSchema = z.string().max(64).refine(timezoneValid, 'not a timezone (an IANA name such as Europe/Berlin or UTC)');

/** Sentry's monitor_config (minutes for margin and runtime), also what the API takes. */
export const MonitorConfigSchema = z.object({
  schedule: ScheduleSchema,
  checkin_margin: z
    .number()
    .int()
    .min(0)
    .max(1440)
    .nullish()
    .meta({ description: 'Minutes after the expected time before a run counts as missed (default 1)' }),
  max_runtime: z
    .number()
    .int()
    .min(1)
    .max(1440)
    .nullish()
    .meta({ description: 'Minutes an in_progress run may take before it counts as failed (default 30)' }),
  timezone: TimezoneSchema.nullish(),
});
export type MonitorConfig = z.output<typeof MonitorConfigSchema>;

export interface Scheduled {
  scheduleType: 'crontab' | 'interval';
  schedule: string;
  timezone: string;
}

export function stored(s: Schedule): Pick<Scheduled, 'scheduleType' | 'schedule'> {
  return s.type === 'crontab'
    ? { scheduleType: 'crontab', schedule: s.value.trim() }
    : { scheduleType: 'interval', schedule: `${s.value} ${s.unit}` };
}

export function asSchedule(m: Pick<Scheduled, 'scheduleType' | 'schedule'>): Schedule {
  if (m.scheduleType === 'crontab') return { type: 'crontab', value: m.schedule };
  const [n, unit] = m.schedule.split(' ');
  return { type: 'interval', value: Number(n), unit: unit as IntervalUnit };
}

function addInterval(from: Date, n: number, unit: IntervalUnit): Date {
  const d = new Date(from);
  switch (unit) {
    case 'minute':
      return new Date(d.getTime() + n * 60_000);
    case 'hour':
      return new Date(d.getTime() + n * 3_600_000);
    case 'day':
      return new Date(d.getTime() + n * 86_400_000);
    case 'week':
      return new Date(d.getTime() + n * 7 * 86_400_000);
    case 'month':
      d.setUTCMonth(d.getUTCMonth() + n);
      return d;
    case 'year':
      d.setUTCFullYear(d.getUTCFullYear() + n);
      return d;
  }
}

/** The first run the schedule expects after `after` (an interval: counted from `after`). */
export function nextRun(m: Scheduled, after: Date): Date {
  const s = asSchedule(m);
  if (s.type === 'interval') return addInterval(after, s.value, s.unit);
  return CronExpressionParser.parse(s.value, { currentDate: after, tz: m.timezone || 'UTC' })
    .next()
    .toDate();
}

/** After a missed run expected at `expected`: the next slot that is still ahead of `now`. */
export function nextSlotAfterMiss(m: Scheduled, expected: Date, now: Date): Date {
  const s = asSchedule(m);
  if (s.type === 'crontab') return nextRun(m, now);
  let next = addInterval(expected, s.value, s.unit);
  for (let i = 0; i < 10_000 && next <= now; i++) next = addInterval(next, s.value, s.unit);
  return next > now ? next : addInterval(now, s.value, s.unit);
}

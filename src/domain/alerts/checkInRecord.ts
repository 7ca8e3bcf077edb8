import { z } from 'zod';
import { MonitorConfigSchema } from './schedule.ts';

export const MONITOR_SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Sentry slugifies monitor names the same way: lower case, anything else becomes "-". */
export function slugify(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 64);
}

/** A check-in as the store-check-ins job carries it: validated and id-assigned at the edge. */
export const CheckInRecordSchema = z.object({
  project_id: z.number().int().positive(),
  monitor_slug: z.string().regex(MONITOR_SLUG),
  check_in_id: z.string().regex(/^[\w-]{1,64}$/),
  status: z.enum(['in_progress', 'ok', 'error']),
  duration_ms: z.number().min(0).nullable(),
  environment: z.string().max(100).nullable(),
  release: z.string().max(200).nullable(),
  monitor_config: MonitorConfigSchema.nullable(),
  received_at: z.iso.datetime(),
  source: z.enum(['sentry', 'http']),
});
export type CheckInRecord = z.infer<typeof CheckInRecordSchema>;

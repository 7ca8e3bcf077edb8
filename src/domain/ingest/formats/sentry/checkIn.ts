import { randomUUID } from 'node:crypto';
import { clip } from '../../../events/record.ts';
import { MonitorConfigSchema } from '../../../alerts/schedule.ts';
import { slugify, type CheckInRecord } from '../../../alerts/checkInRecord.ts';

/**
 * A Sentry `check_in` envelope item (`Sentry.captureCheckIn`, `withMonitor`) as a
 * check-in record, or null when it names no monitor or an unknown status. A
 * monitor_config that does not parse is dropped (the check-in still counts for an
 * existing monitor), as Sentry's own ingest does with configs it refuses.
 */
export function checkInFromSentry(json: unknown, projectId: number, receivedAt: string): CheckInRecord | null {
  if (!json || typeof json !== 'object') return null;
  const item = json as Record<string, unknown>;
  const slug = typeof item.monitor_slug === 'string' ? slugify(item.monitor_slug) : '';
  const status = item.status;
  if (!slug || (status !== 'in_progress' && status !== 'ok' && status !== 'error')) return null;
  const rawId = typeof item.check_in_id === 'string' ? item.check_in_id.replaceAll('-', '') : '';
  const config = item.monitor_config ? MonitorConfigSchema.safeParse(item.monitor_config) : null;
  const seconds = typeof item.duration === 'number' && Number.isFinite(item.duration) && item.duration >= 0 ? item.duration : null;
  const text = (v: unknown, n: number) => (typeof v === 'string' && v.trim() ? clip(v.trim(), n) : null);
  return {
    project_id: projectId,
    monitor_slug: slug,
    check_in_id: /^[\w]{1,64}$/.test(rawId) ? rawId.toLowerCase() : randomUUID().replaceAll('-', ''),
    status,
    duration_ms: seconds === null ? null : seconds * 1000,
    environment: text(item.environment, 100),
    release: text(item.release, 200),
    monitor_config: config?.success ? config.data : null,
    received_at: receivedAt,
    source: 'sentry',
  };
}

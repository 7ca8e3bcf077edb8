import type { DataSource } from 'typeorm';
import { badRequest } from '../errors.ts';

/**
 * What a quota counts. `error` and `log` are rows of the events table by kind, `llm` LLM
 * logs, `span` spans; `dump_bytes` the bytes of crash dumps, minidumps and Sentry
 * attachments. LLM logs derived from spans (OTLP GenAI, Sentry AI spans) are part of their
 * trace and count as spans.
 */
export type QuotaCategory = 'error' | 'log' | 'llm' | 'span' | 'dump_bytes';
export const CATEGORIES: readonly QuotaCategory[] = ['error', 'log', 'llm', 'span', 'dump_bytes'];

/** The limits as the API and the config name them. */
export interface Limits {
  events_per_minute: number | null;
  logs_per_minute: number | null;
  llm_logs_per_minute: number | null;
  spans_per_minute: number | null;
  dump_bytes_per_day: number | null;
  spike_protection: boolean | null;
}
export type LimitField = Exclude<keyof Limits, 'spike_protection'>;

export const FIELD_OF: Record<QuotaCategory, LimitField> = {
  error: 'events_per_minute',
  log: 'logs_per_minute',
  llm: 'llm_logs_per_minute',
  span: 'spans_per_minute',
  dump_bytes: 'dump_bytes_per_day',
};
/** The bucket's period: it refills continuously, a full bucket's worth per period. */
export const PERIOD_MS: Record<QuotaCategory, number> = { error: 60_000, log: 60_000, llm: 60_000, span: 60_000, dump_bytes: 86_400_000 };

export const EMPTY: Limits = {
  events_per_minute: null,
  logs_per_minute: null,
  llm_logs_per_minute: null,
  spans_per_minute: null,
  dump_bytes_per_day: null,
  spike_protection: null,
};

/** A project's overrides and its keys' (by key id), as stored. */
export interface Overrides {
  project: Limits;
  keys: Map<number, Limits>;
}

interface Row {
  api_key_id: number | null;
  events_per_minute: number | null;
  logs_per_minute: number | null;
  llm_logs_per_minute: number | null;
  spans_per_minute: number | null;
  dump_bytes_per_day: string | null;
  spike_protection: boolean | null;
}

const limitsOf = (r: Row): Limits => ({
  events_per_minute: r.events_per_minute,
  logs_per_minute: r.logs_per_minute,
  llm_logs_per_minute: r.llm_logs_per_minute,
  spans_per_minute: r.spans_per_minute,
  dump_bytes_per_day: r.dump_bytes_per_day === null ? null : Number(r.dump_bytes_per_day),
  spike_protection: r.spike_protection,
});

export async function loadOverrides(ds: DataSource, projectId: number): Promise<Overrides> {
  const rows: Row[] = await ds.query(
    `SELECT api_key_id, events_per_minute, logs_per_minute, llm_logs_per_minute, spans_per_minute, dump_bytes_per_day, spike_protection
       FROM quota_overrides WHERE project_id = $1`,
    [projectId],
  );
  const out: Overrides = { project: { ...EMPTY }, keys: new Map() };
  for (const r of rows) {
    if (r.api_key_id === null) out.project = limitsOf(r);
    else out.keys.set(r.api_key_id, limitsOf(r));
  }
  return out;
}

/**
 * Writes one scope's overrides (fields absent from `patch` keep their value; null clears
 * one). A key must belong to the project, or nothing is written.
 */
export async function saveOverrides(ds: DataSource, projectId: number, keyId: number | null, patch: Partial<Limits>): Promise<void> {
  await ds.transaction(async (m) => {
    if (keyId !== null) {
      const [key] = await m.query(`SELECT id FROM api_keys WHERE id = $1 AND project_id = $2`, [keyId, projectId]);
      if (!key) throw badRequest(`API key ${keyId} is not a key of this project`, { keys: [String(keyId)] }, 'unknown_key');
    }
    const [current] = await m.query(`SELECT * FROM quota_overrides WHERE project_id = $1 AND coalesce(api_key_id, 0) = $2 FOR UPDATE`, [
      projectId,
      keyId ?? 0,
    ]);
    const next: Limits = { ...(current ? limitsOf(current) : EMPTY), ...patch };
    const values = [
      next.events_per_minute,
      next.logs_per_minute,
      next.llm_logs_per_minute,
      next.spans_per_minute,
      next.dump_bytes_per_day,
      next.spike_protection,
    ];
    if (current) {
      await m.query(
        `UPDATE quota_overrides SET events_per_minute = $2, logs_per_minute = $3, llm_logs_per_minute = $4, spans_per_minute = $5,
                dump_bytes_per_day = $6, spike_protection = $7, updated_at = now() WHERE id = $1`,
        [current.id, ...values],
      );
    } else {
      await m.query(
        `INSERT INTO quota_overrides (project_id, api_key_id, events_per_minute, logs_per_minute, llm_logs_per_minute, spans_per_minute, dump_bytes_per_day, spike_protection)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [projectId, keyId, ...values],
      );
    }
  });
}

/** The project's effective limits: its overrides over the instance defaults (0 = no limit). */
export function effectiveProject(defaults: Required<{ [K in keyof Limits]: NonNullable<Limits[K]> }>, own: Limits) {
  return {
    events_per_minute: own.events_per_minute ?? defaults.events_per_minute,
    logs_per_minute: own.logs_per_minute ?? defaults.logs_per_minute,
    llm_logs_per_minute: own.llm_logs_per_minute ?? defaults.llm_logs_per_minute,
    spans_per_minute: own.spans_per_minute ?? defaults.spans_per_minute,
    dump_bytes_per_day: own.dump_bytes_per_day ?? defaults.dump_bytes_per_day,
    spike_protection: own.spike_protection ?? defaults.spike_protection,
  };
}
export type EffectiveLimits = ReturnType<typeof effectiveProject>;

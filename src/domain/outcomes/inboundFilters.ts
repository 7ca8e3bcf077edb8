import type { DataSource } from 'typeorm';
import { FILTERS_OFF, filterEvent, filtersActive, type FilterId, type InboundFilterSettings } from './filters.ts';
import type { EventRecord } from '../events/record.ts';
import { recordOutcome } from './recorder.ts';
import { logger } from '../../logger.ts';

/** Patterns per list, and characters per pattern (the admin and the API refuse more). */
export const PATTERN_LIMITS = { count: 50, chars: 200 };

interface Row {
  legacy_browsers: boolean;
  web_crawlers: boolean;
  browser_extensions: boolean;
  localhost: boolean;
  error_messages: string;
  releases: string;
}

/** Patterns are stored one per line (the admin's text area); blank lines mean nothing. */
export const splitPatterns = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);

const fromRow = (r: Row | undefined): InboundFilterSettings =>
  r
    ? {
        legacy_browsers: r.legacy_browsers,
        web_crawlers: r.web_crawlers,
        browser_extensions: r.browser_extensions,
        localhost: r.localhost,
        error_messages: splitPatterns(r.error_messages),
        releases: splitPatterns(r.releases),
      }
    : { ...FILTERS_OFF, error_messages: [], releases: [] };

/** A project's filters, as stored (every filter off without a row). Authorization is the caller's. */
export async function loadInboundFilters(ds: DataSource, projectId: number): Promise<InboundFilterSettings> {
  const rows: Row[] = await ds.query(
    `SELECT legacy_browsers, web_crawlers, browser_extensions, localhost, error_messages, releases FROM project_inbound_filters WHERE project_id = $1`,
    [projectId],
  );
  return fromRow(rows[0]);
}

/** Every cache of this process, so a change made here applies here at once. */
const caches = new Set<InboundFilterCache>();

/** Replaces a project's filters (a partial change keeps the rest). Authorization is the caller's. */
export async function saveInboundFilters(
  ds: DataSource,
  projectId: number,
  change: Partial<InboundFilterSettings>,
): Promise<InboundFilterSettings> {
  const saved = await ds.transaction(async (m) => {
    const rows: Row[] = await m.query(
      `SELECT legacy_browsers, web_crawlers, browser_extensions, localhost, error_messages, releases FROM project_inbound_filters WHERE project_id = $1 FOR UPDATE`,
      [projectId],
    );
    const next = { ...fromRow(rows[0]), ...change };
    await m.query(
      `INSERT INTO project_inbound_filters (project_id, legacy_browsers, web_crawlers, browser_extensions, localhost, error_messages, releases)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (project_id) DO UPDATE SET legacy_browsers = excluded.legacy_browsers, web_crawlers = excluded.web_crawlers,
         browser_extensions = excluded.browser_extensions, localhost = excluded.localhost, error_messages = excluded.error_messages,
         releases = excluded.releases, updated_at = now()`,
      [
        projectId,
        next.legacy_browsers,
        next.web_crawlers,
        next.browser_extensions,
        next.localhost,
        next.error_messages.join('\n'),
        next.releases.join('\n'),
      ],
    );
    return next;
  });
  for (const c of caches) c.forget(projectId);
  return saved;
}

/** The public shape of the filters (GET/PUT /api/projects/{id}/inbound-filters/). */
export const filtersOut = (projectId: number, s: InboundFilterSettings) => ({
  project: projectId,
  filters: [
    { id: 'legacy-browsers', active: s.legacy_browsers },
    { id: 'web-crawlers', active: s.web_crawlers },
    { id: 'browser-extensions', active: s.browser_extensions },
    { id: 'localhost', active: s.localhost },
    { id: 'error-message', active: s.error_messages.length > 0, patterns: s.error_messages },
    { id: 'release-version', active: s.releases.length > 0, patterns: s.releases },
  ],
  ...s,
});

/**
 * What the ingest edge asks per event: the project's filters, cached per web process for
 * `ttlMs` (a change made through this process applies at once; elsewhere within the TTL).
 * Applied before enqueue: a filtered event costs no job and no row, only a counter.
 */
export class InboundFilterCache {
  private readonly cache = new Map<number, { value: InboundFilterSettings; expires: number }>();
  private readonly loading = new Map<number, Promise<InboundFilterSettings>>();

  constructor(
    private readonly ds: DataSource,
    private readonly ttlMs: number,
  ) {
    caches.add(this);
  }

  async get(projectId: number): Promise<InboundFilterSettings> {
    const hit = this.cache.get(projectId);
    if (hit && hit.expires > Date.now()) return hit.value;
    let pending = this.loading.get(projectId);
    if (!pending) {
      pending = this.load(projectId, hit?.value).finally(() => this.loading.delete(projectId));
      this.loading.set(projectId, pending);
    }
    return pending;
  }

  /**
   * A lookup that fails (PostgreSQL away) must not refuse ingestion, which goes on through
   * Redis: the last known filters apply, or none — an event let through is kept, never lost.
   */
  private async load(projectId: number, stale: InboundFilterSettings | undefined): Promise<InboundFilterSettings> {
    let value: InboundFilterSettings;
    try {
      value = await loadInboundFilters(this.ds, projectId);
    } catch (err) {
      logger.warn({ err: (err as Error).message, projectId }, 'inbound filters not readable; applying the last known ones');
      value = stale ?? FILTERS_OFF;
    }
    if (this.ttlMs > 0) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(projectId, { value, expires: Date.now() + this.ttlMs });
    }
    return value;
  }

  forget(projectId: number): void {
    this.cache.delete(projectId);
  }

  /**
   * The records to keep; every one a filter drops is counted as a `filtered` outcome
   * (reason: the filter's id). Only error events are looked at.
   */
  async apply(projectId: number, records: EventRecord[], keyId?: number): Promise<EventRecord[]> {
    if (!records.some((r) => r.kind === 'error')) return records;
    const settings = await this.get(projectId);
    if (!filtersActive(settings)) return records;
    const kept: EventRecord[] = [];
    for (const r of records) {
      const by: FilterId | null = filterEvent(r, settings);
      if (by) recordOutcome({ projectId, category: 'error', outcome: 'filtered', reason: by, keyId });
      else kept.push(r);
    }
    return kept;
  }
}

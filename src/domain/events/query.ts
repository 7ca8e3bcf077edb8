import type { DataSource } from 'typeorm';
import type { Level } from '../levels.ts';
import { config } from '../../config.ts';
import {
  cappedCount,
  excerptPage,
  jsonExcerpt,
  likePattern,
  pageQuery,
  pageResult,
  textExcerpt,
  type ListPage,
  type PageRequest,
} from '../pagination.ts';
import type { EventKind } from './record.ts';

export interface EventFilters {
  projectId: number;
  /** Omitted: both kinds (an issue's events may include error logs). */
  kind?: EventKind;
  issueId?: string;
  search?: string;
  levels?: Level[];
  environment?: string;
}

export interface EventRow {
  id: string;
  event_id: string;
  event_type: string | null;
  exception_type: string | null;
  message: string;
  stacktrace: string | null;
  level: Level;
  environment: string | null;
  service: string | null;
  timestamp: Date;
  received_at: Date;
  tags: Record<string, unknown>;
  extra: Record<string, unknown>;
  issue_id: string | null;
  trace_id: string | null;
  span_id: string | null;
  /** What scrubbing took out before storage (src/domain/scrubbing). */
  scrubbed: Array<{ path: string; rule: string }> | null;
}

function where(f: EventFilters) {
  const clauses = ['project_id = $1'];
  const params: unknown[] = [f.projectId];
  if (f.kind) {
    params.push(f.kind);
    clauses.push(`kind = $${params.length}`);
  }
  if (f.issueId) {
    params.push(f.issueId);
    clauses.push(`issue_id = $${params.length}`);
  }
  if (f.search) {
    params.push(likePattern(f.search));
    // Both columns carry trigram indexes, so this is a bitmap index scan, not a seq scan.
    clauses.push(`(message ILIKE $${params.length} OR exception_type ILIKE $${params.length})`);
  }
  if (f.levels?.length) {
    params.push(f.levels);
    clauses.push(`level = ANY($${params.length}::text[])`);
  }
  if (f.environment) {
    params.push(f.environment);
    clauses.push(`environment = $${params.length}`);
  }
  return { clauses, params };
}

export const EVENT_COLUMNS = `id, event_id, event_type, exception_type, message, stacktrace, level, environment, service,
                 "timestamp", received_at, tags, extra, issue_id, trace_id, span_id, scrubbed`;
const ORDER = `"timestamp" DESC, id DESC`;

/** An event as lists carry it: message and stack trace cut (flagged), tags and extra left out (null) when big. */
export interface EventListRow extends Omit<EventRow, 'tags' | 'extra'> {
  message_truncated: boolean;
  stacktrace_truncated: boolean;
  tags: Record<string, unknown> | null;
  extra: Record<string, unknown> | null;
}

/**
 * Newest first. Page mode counts (capped); cursor mode (deep pages) walks the index from a
 * keyset position. Limits default to config.lists.
 */
export async function listEvents(
  ds: DataSource,
  f: EventFilters,
  page: PageRequest,
  limits: { textChars?: number; jsonBytes?: number } = {},
): Promise<ListPage<EventListRow>> {
  const { clauses, params } = where(f);
  const q = pageQuery(page, clauses, params);
  const chars = limits.textChars ?? config.lists.textChars;
  const bytes = limits.jsonBytes ?? config.lists.jsonBytes;
  const excerpts =
    `id, event_id, event_type, exception_type, ${textExcerpt('message', chars)}, ${textExcerpt('stacktrace', chars)}, level, environment, service, ` +
    `"timestamp", received_at, ${jsonExcerpt('tags', bytes)}, ${jsonExcerpt('extra', bytes)}, issue_id, trace_id, span_id, scrubbed`;
  const limited = `SELECT ${EVENT_COLUMNS} FROM events WHERE ${q.clauses.join(' AND ')} ORDER BY ${ORDER} ${q.limit}`;
  // Started and awaited together, so a failing page query never leaves the count unhandled.
  const [count, rows] = await Promise.all([
    cappedCount(ds, 'events', clauses.join(' AND '), params),
    ds.query(excerptPage(excerpts, limited, ORDER), q.params) as Promise<EventListRow[]>,
  ]);
  return pageResult(count, rows, page, q.offset);
}

/** Panties' field names, plus id and received_at; list copies flag what they cut. */
export function serializeEvent(r: EventRow | EventListRow) {
  const cut = 'message_truncated' in r ? r : null;
  return {
    id: Number(r.id),
    event_id: r.event_id,
    event_type: r.event_type,
    exception_type: r.exception_type,
    message: r.message,
    ...(cut?.message_truncated ? { message_truncated: true as const } : {}),
    stacktrace: r.stacktrace,
    ...(cut?.stacktrace_truncated ? { stacktrace_truncated: true as const } : {}),
    level: r.level,
    environment: r.environment,
    service_name: r.service,
    timestamp: r.timestamp.toISOString(),
    received_at: r.received_at.toISOString(),
    tags: r.tags ?? {},
    ...(r.tags === null ? { tags_truncated: true as const } : {}),
    extra: r.extra ?? {},
    ...(r.extra === null ? { extra_truncated: true as const } : {}),
    issue: r.issue_id === null ? null : Number(r.issue_id),
    // The trace it happened in (Sentry's contexts.trace, OTLP): GET /api/traces/{trace_id}/.
    trace_id: r.trace_id,
    span_id: r.span_id,
    // What scrubbing took out before storage, field path and rule: people see that data is missing, and why.
    scrubbed: r.scrubbed ?? [],
  };
}

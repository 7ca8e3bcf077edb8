import type { DataSource } from 'typeorm';
import type { Level } from '../levels.ts';
import { cappedCount, likePattern, pageQuery, pageResult, type PageRequest } from '../pagination.ts';
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

const SELECT = `SELECT id, event_id, event_type, exception_type, message, stacktrace, level, environment, service,
                       "timestamp", received_at, tags, extra, issue_id, trace_id, span_id FROM events`;

/** Newest first. Page mode counts (capped); cursor mode (deep pages) walks the index from a keyset position. */
export async function listEvents(ds: DataSource, f: EventFilters, page: PageRequest) {
  const { clauses, params } = where(f);
  const count = cappedCount(ds, 'events', clauses.join(' AND '), params);
  const q = pageQuery(page, clauses, params);
  const rows: EventRow[] = await ds.query(`${SELECT} WHERE ${q.clauses.join(' AND ')} ORDER BY "timestamp" DESC, id DESC ${q.limit}`, q.params);
  return pageResult(await count, rows, page);
}

/** Seed 1's field names, plus id and received_at. */
export function serializeEvent(r: EventRow) {
  return {
    id: Number(r.id),
    event_id: r.event_id,
    event_type: r.event_type,
    exception_type: r.exception_type,
    message: r.message,
    stacktrace: r.stacktrace,
    level: r.level,
    environment: r.environment,
    service_name: r.service,
    timestamp: r.timestamp.toISOString(),
    received_at: r.received_at.toISOString(),
    tags: r.tags,
    extra: r.extra,
    issue: r.issue_id === null ? null : Number(r.issue_id),
    // The trace it happened in (Sentry's contexts.trace, OTLP): GET /api/traces/{trace_id}/.
    trace_id: r.trace_id,
    span_id: r.span_id,
  };
}

import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Project } from './Project.ts';
import type { EventKind, Level } from './values.ts';

/**
 * One table for error events and application logs: every seed's payload is normalized
 * onto it (one module per protocol in src/domain/ingest/formats/). Written by workers only, with
 * `ON CONFLICT (project_id, event_id, timestamp) DO NOTHING` so re-delivery never duplicates.
 * Partitioned by day on `timestamp` (src/domain/partitions): the keys include it, so the
 * primary key is (id, timestamp); a retried job carries the same timestamp (fixed at the edge).
 */
@Entity({ name: 'events' })
export class Event extends BaseEntity {
  /** bigint: node-postgres returns it as a string; serializers turn it into a number. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'event_id', type: 'varchar', length: 100 })
  eventId: string;

  @Column({ type: 'varchar', length: 8 })
  kind: EventKind;

  /** Panties' free-form `event_type` (e.g. "exception", "message"). */
  @Column({ name: 'event_type', type: 'varchar', length: 64, nullable: true })
  eventType: string | null;

  @Column({ type: 'timestamptz' })
  timestamp: Date;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ type: 'varchar', length: 10 })
  level: Level;

  @Column({ type: 'text', default: '' })
  message: string;

  @Column({ name: 'exception_type', type: 'varchar', length: 255, nullable: true })
  exceptionType: string | null;

  @Column({ type: 'text', nullable: true })
  stacktrace: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  environment: string | null;

  /** Panties' service_name, the logs dashboard's source. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  service: string | null;

  /** The client's own user id (DataIdea's user_id). */
  @Column({ name: 'user_ref', type: 'varchar', length: 200, nullable: true })
  userRef: string | null;

  @Column({ type: 'jsonb', default: {} })
  tags: Record<string, unknown>;

  @Column({ type: 'jsonb', default: {} })
  extra: Record<string, unknown>;

  @Column({ type: 'boolean', default: false })
  archived: boolean;

  /** The issue this error event is grouped into (src/domain/issues). */
  @Column({ name: 'issue_id', type: 'bigint', nullable: true })
  issueId: string | null;

  /** The trace this happened in (OpenTelemetry, Sentry's contexts.trace): links it to GET /api/traces/{trace_id}/. */
  @Column({ name: 'trace_id', type: 'varchar', length: 32, nullable: true })
  traceId: string | null;

  @Column({ name: 'span_id', type: 'varchar', length: 16, nullable: true })
  spanId: string | null;

  /** The client's release (Sentry `release`). */
  @Column({ type: 'varchar', length: 250, nullable: true })
  release: string | null;

  /** The structured event: exception chain, frames, breadcrumbs, contexts (src/domain/events/structured.ts). */
  @Column({ type: 'jsonb', nullable: true })
  data: Record<string, unknown> | null;

  /** Which door it came in by: panties, dataidea, logs, sentry, … */
  @Column({ type: 'varchar', length: 16 })
  origin: string;

  /** What scrubbing took out before storage ([{path, rule}]; null: nothing) — src/domain/scrubbing. */
  @Column({ type: 'jsonb', nullable: true })
  scrubbed: Array<{ path: string; rule: string }> | null;
}

import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import type { SpanKind, SpanStatus } from '../domain/spans/record.ts';
import { Project } from './Project.ts';

/**
 * One span of a trace (OTLP traces, Sentry transactions and span items). Written by
 * workers only, with `ON CONFLICT (project_id, trace_id, span_id, start_time) DO NOTHING`
 * (partitioned by day on `start_time`, src/domain/partitions).
 */
@Entity({ name: 'spans' })
export class Span extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'trace_id', type: 'varchar', length: 32 })
  traceId: string;

  @Column({ name: 'span_id', type: 'varchar', length: 16 })
  spanId: string;

  @Column({ name: 'parent_span_id', type: 'varchar', length: 16, nullable: true })
  parentSpanId: string | null;

  @Column({ type: 'varchar', length: 1000, default: '' })
  name: string;

  @Column({ type: 'varchar', length: 12 })
  kind: SpanKind;

  @Column({ name: 'start_time', type: 'timestamptz' })
  startTime: Date;

  @Column({ name: 'end_time', type: 'timestamptz' })
  endTime: Date;

  @Column({ name: 'duration_ms', type: 'double precision' })
  durationMs: number;

  @Column({ name: 'status_code', type: 'varchar', length: 5 })
  statusCode: SpanStatus;

  @Column({ name: 'status_message', type: 'text', nullable: true })
  statusMessage: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  service: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  environment: string | null;

  @Column({ type: 'jsonb', default: {} })
  attributes: Record<string, unknown>;

  @Column({ type: 'jsonb', default: {} })
  resource: Record<string, unknown>;

  @Column({ type: 'jsonb', nullable: true })
  scope: { name: string | null; version: string | null } | null;

  @Column({ type: 'jsonb', default: [] })
  events: Array<{ name: string; time: string; attributes: Record<string, unknown> }>;

  @Column({ type: 'jsonb', default: [] })
  links: Array<{ trace_id: string; span_id: string; attributes: Record<string, unknown> }>;

  /** otlp or sentry. */
  @Column({ type: 'varchar', length: 16 })
  origin: string;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  /** What scrubbing took out before storage ([{path, rule}]; null: nothing) — src/domain/scrubbing. */
  @Column({ type: 'jsonb', nullable: true })
  scrubbed: Array<{ path: string; rule: string }> | null;
}

import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Project } from './Project.ts';

/**
 * One LLM call (DataIdea's llm-log). Written by workers only, with
 * `ON CONFLICT (project_id, event_id, timestamp) DO NOTHING` (partitioned by week on
 * `timestamp`, src/domain/partitions). Model, token counts and latency are
 * lifted out of the client's free-form metadata so usage can be summed and grouped.
 */
@Entity({ name: 'llm_logs' })
export class LlmLog extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'event_id', type: 'varchar', length: 100 })
  eventId: string;

  @Column({ type: 'timestamptz' })
  timestamp: Date;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  /** The client's own user id (DataIdea's user_id). */
  @Column({ name: 'user_ref', type: 'varchar', length: 200, nullable: true })
  userRef: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  source: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  model: string | null;

  @Column({ type: 'text', default: '' })
  query: string;

  @Column({ type: 'text', default: '' })
  response: string;

  @Column({ name: 'prompt_tokens', type: 'integer', nullable: true })
  promptTokens: number | null;

  @Column({ name: 'completion_tokens', type: 'integer', nullable: true })
  completionTokens: number | null;

  @Column({ name: 'total_tokens', type: 'integer', nullable: true })
  totalTokens: number | null;

  @Column({ name: 'latency_ms', type: 'double precision', nullable: true })
  latencyMs: number | null;

  @Column({ type: 'jsonb', default: {} })
  metadata: Record<string, unknown>;

  /** The trace of the call (GenAI spans, Langfuse, Sentry AI spans): links it to GET /api/traces/{trace_id}/. */
  @Column({ name: 'trace_id', type: 'varchar', length: 32, nullable: true })
  traceId: string | null;

  @Column({ name: 'span_id', type: 'varchar', length: 16, nullable: true })
  spanId: string | null;

  /** Prompt tokens served from the provider's cache (a part of promptTokens, priced lower). */
  @Column({ name: 'cached_tokens', type: 'integer', nullable: true })
  cachedTokens: number | null;

  /** Why the call failed; null when it did not. */
  @Column({ type: 'varchar', length: 1000, nullable: true })
  error: string | null;

  /** dataidea, otlp, langfuse, sentry. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  origin: string | null;

  /** US dollars, from the price table when the call was stored; null for a model without a price. */
  @Column({ type: 'double precision', nullable: true })
  cost: number | null;

  /** What scrubbing took out before storage ([{path, rule}]; null: nothing) — src/domain/scrubbing. */
  @Column({ type: 'jsonb', nullable: true })
  scrubbed: Array<{ path: string; rule: string }> | null;
}

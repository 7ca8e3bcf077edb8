import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { ApiKey } from './ApiKey.ts';
import { Project } from './Project.ts';

/**
 * A project's (apiKeyId null) or one key's quota overrides (src/domain/quotas). Null
 * inherits — a project the instance default, a key nothing of its own —; 0 is no limit.
 */
@Entity({ name: 'quota_overrides' })
export class QuotaOverride extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'api_key_id', type: 'integer', nullable: true })
  apiKeyId: number | null;

  @ManyToOne(() => ApiKey, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'api_key_id' })
  apiKey: Relation<ApiKey> | null;

  @Column({ name: 'events_per_minute', type: 'integer', nullable: true })
  eventsPerMinute: number | null;

  @Column({ name: 'logs_per_minute', type: 'integer', nullable: true })
  logsPerMinute: number | null;

  @Column({ name: 'llm_logs_per_minute', type: 'integer', nullable: true })
  llmLogsPerMinute: number | null;

  @Column({ name: 'spans_per_minute', type: 'integer', nullable: true })
  spansPerMinute: number | null;

  /** bigint: pg returns it as a string. */
  @Column({ name: 'dump_bytes_per_day', type: 'bigint', nullable: true })
  dumpBytesPerDay: string | null;

  @Column({ name: 'spike_protection', type: 'boolean', nullable: true })
  spikeProtection: boolean | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

import { BaseEntity, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { AlertRule } from './AlertRule.ts';
import { Project } from './Project.ts';

export const FIRING_STATUSES = ['notified', 'digested', 'suppressed', 'snoozed', 'no_channels'] as const;
export type FiringStatus = (typeof FIRING_STATUSES)[number];
export type FiringKind = 'firing' | 'recovered' | 'test';

/** A rule that fired, recorded before anything is sent (src/domain/alerts/firings.ts). */
@Entity({ name: 'alert_firings' })
export class AlertFiring extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'rule_id', type: 'integer', nullable: true })
  ruleId: number | null;

  @ManyToOne(() => AlertRule, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'rule_id' })
  rule: Relation<AlertRule> | null;

  @Column({ type: 'varchar', length: 32 })
  trigger: string;

  @Column({ name: 'trigger_key', type: 'varchar', length: 300 })
  triggerKey: string;

  @Column({ type: 'varchar', length: 200, default: '_' })
  subject: string;

  @Column({ type: 'varchar', length: 12 })
  kind: FiringKind;

  @Column({ type: 'varchar', length: 12 })
  status: FiringStatus;

  @Column({ name: 'window_start', type: 'timestamptz', nullable: true })
  windowStart: Date | null;

  @Column({ name: 'window_end', type: 'timestamptz', nullable: true })
  windowEnd: Date | null;

  @Column({ type: 'double precision', nullable: true })
  value: number | null;

  @Column({ type: 'double precision', nullable: true })
  threshold: number | null;

  @Column({ name: 'digest_id', type: 'bigint', nullable: true })
  digestId: string | null;

  @Column({ type: 'jsonb', default: {} })
  payload: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

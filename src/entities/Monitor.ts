import {
  BaseEntity,
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type Relation,
} from 'typeorm';
import { Project } from './Project.ts';

export const MONITOR_STATUSES = ['new', 'ok', 'error', 'missed', 'timeout'] as const;
export type MonitorStatus = (typeof MONITOR_STATUSES)[number];

/** A cron monitor: a job expected on a schedule (src/domain/alerts/monitors.ts). */
@Entity({ name: 'monitors' })
export class Monitor extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ type: 'varchar', length: 64 })
  slug: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ name: 'schedule_type', type: 'varchar', length: 10 })
  scheduleType: 'crontab' | 'interval';

  /** A crontab expression, or "<n> <unit>" (minute, hour, day, week, month, year) for an interval. */
  @Column({ type: 'varchar', length: 100 })
  schedule: string;

  @Column({ type: 'varchar', length: 64, default: 'UTC' })
  timezone: string;

  @Column({ name: 'checkin_margin_minutes', type: 'integer', default: 1 })
  checkinMarginMinutes: number;

  @Column({ name: 'max_runtime_minutes', type: 'integer', default: 30 })
  maxRuntimeMinutes: number;

  @Column({ type: 'varchar', length: 12, default: 'new' })
  status: MonitorStatus;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'last_checkin_at', type: 'timestamptz', nullable: true })
  lastCheckinAt: Date | null;

  @Column({ name: 'next_expected_at', type: 'timestamptz', nullable: true })
  nextExpectedAt: Date | null;

  @Column({ name: 'deadline_at', type: 'timestamptz', nullable: true })
  deadlineAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

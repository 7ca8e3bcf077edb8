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
import { Monitor } from './Monitor.ts';
import { Project } from './Project.ts';

export const CHECKIN_STATUSES = ['in_progress', 'ok', 'error', 'missed', 'timeout'] as const;
export type CheckInStatus = (typeof CHECKIN_STATUSES)[number];

/** One run of a monitor: reported (Sentry check-in, HTTP ping) or recorded by the schedule (missed, timeout). */
@Entity({ name: 'monitor_checkins' })
export class MonitorCheckIn extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'monitor_id', type: 'integer' })
  monitorId: number;

  @ManyToOne(() => Monitor, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'monitor_id' })
  monitor: Relation<Monitor>;

  @Column({ name: 'check_in_id', type: 'varchar', length: 64 })
  checkInId: string;

  @Column({ type: 'varchar', length: 12 })
  status: CheckInStatus;

  @Column({ type: 'varchar', length: 8 })
  source: 'sentry' | 'http' | 'schedule';

  @Column({ type: 'varchar', length: 100, nullable: true })
  environment: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  release: string | null;

  @Column({ name: 'duration_ms', type: 'double precision', nullable: true })
  durationMs: number | null;

  @Column({ name: 'expected_at', type: 'timestamptz', nullable: true })
  expectedAt: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

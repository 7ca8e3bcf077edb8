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
import type { Level } from './values.ts';
import { Project } from './Project.ts';
import { User } from './User.ts';

export const ISSUE_STATUSES = ['unresolved', 'resolved', 'ignored'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];
export const ISSUE_SUBSTATUSES = ['regressed', 'new', 'ongoing', 'escalating'] as const;
export type IssueSubstatus = (typeof ISSUE_SUBSTATUSES)[number];
export const RESOLUTIONS = ['now', 'in_release', 'in_next_release'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** A group of error events with the same fingerprint (src/domain/issues/fingerprint.ts). */
@Entity({ name: 'issues' })
export class Issue extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ type: 'char', length: 64 })
  fingerprint: string;

  @Column({ type: 'varchar', length: 255 })
  title: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  culprit: string | null;

  @Column({ type: 'varchar', length: 10 })
  level: Level;

  @Column({ type: 'varchar', length: 12, default: 'unresolved' })
  status: IssueStatus;

  @Column({ name: 'first_seen', type: 'timestamptz' })
  firstSeen: Date;

  @Column({ name: 'last_seen', type: 'timestamptz' })
  lastSeen: Date;

  @Column({ name: 'times_seen', type: 'bigint', default: 0 })
  timesSeen: string;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt: Date | null;

  @Column({ name: 'users_seen', type: 'bigint', default: 0 })
  usersSeen: string;

  @Column({ name: 'first_release', type: 'varchar', length: 250, nullable: true })
  firstRelease: string | null;

  @Column({ name: 'last_release', type: 'varchar', length: 250, nullable: true })
  lastRelease: string | null;

  @Column({ name: 'assignee_id', type: 'integer', nullable: true })
  assigneeId: number | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'assignee_id' })
  assignee: Relation<User> | null;

  /** Why an unresolved issue is unresolved: `regressed` after a resolution did not hold. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  substatus: IssueSubstatus | null;

  /** How a resolved issue was resolved; with in_release / in_next_release, which release. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  resolution: Resolution | null;

  @Column({ name: 'resolved_in_release', type: 'varchar', length: 250, nullable: true })
  resolvedInRelease: string | null;

  /** Ignored until this date, or until times_seen reaches ignoreUntilTimes. */
  @Column({ name: 'ignore_until', type: 'timestamptz', nullable: true })
  ignoreUntil: Date | null;

  @Column({ name: 'ignore_until_times', type: 'bigint', nullable: true })
  ignoreUntilTimes: string | null;

  @Column({ name: 'grouping_version', type: 'smallint', default: 1 })
  groupingVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

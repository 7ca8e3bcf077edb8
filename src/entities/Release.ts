import { BaseEntity, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Project } from './Project.ts';
import { User } from './User.ts';

/** A project's release, by version (src/domain/releases). */
@Entity({ name: 'releases' })
export class Release extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ type: 'varchar', length: 250 })
  version: string;

  @Column({ type: 'varchar', length: 250, nullable: true })
  package: string | null;

  @Column({ name: 'semver_major', type: 'bigint', nullable: true, select: false })
  semverMajor: string | null;

  @Column({ name: 'semver_minor', type: 'bigint', nullable: true, select: false })
  semverMinor: string | null;

  @Column({ name: 'semver_patch', type: 'bigint', nullable: true, select: false })
  semverPatch: string | null;

  @Column({ name: 'semver_pre', type: 'varchar', length: 250, nullable: true, select: false })
  semverPre: string | null;

  @Column({ name: 'first_seen', type: 'timestamptz', nullable: true })
  firstSeen: Date | null;

  @Column({ name: 'last_seen', type: 'timestamptz', nullable: true })
  lastSeen: Date | null;

  @Column({ name: 'date_released', type: 'timestamptz', nullable: true })
  dateReleased: Date | null;

  @Column({ name: 'created_by_id', type: 'integer', nullable: true })
  createdById: number | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'created_by_id' })
  createdBy: Relation<User> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Project } from './Project.ts';

/** A project's own scrubbing rule (src/domain/scrubbing): the defaults need no row. */
@Entity({ name: 'scrubbing_rules' })
export class ScrubbingRule extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  /** email, ip, phone, regex, key, exempt. */
  @Column({ type: 'varchar', length: 16 })
  kind: string;

  /** The regex (regex), key name or path glob (key, exempt), default country (phone, e.g. US). */
  @Column({ type: 'varchar', length: 500, nullable: true })
  pattern: string | null;

  /** mask, hash, remove; null for exempt. */
  @Column({ type: 'varchar', length: 8, nullable: true })
  action: string | null;

  @Column({ type: 'varchar', length: 500, default: '' })
  description: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

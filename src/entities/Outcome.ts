import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Project } from './Project.ts';

/**
 * One hour's count of what happened to one kind of data of a project (src/domain/outcomes):
 * how much was filtered, rate limited, invalid or discarded by the client, and why.
 */
@Entity({ name: 'outcomes' })
export class Outcome extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  /** The start of the hour counted. */
  @Column({ type: 'timestamptz' })
  hour: Date;

  /** Sentry's data category: error, transaction, span, attachment, session, log, … */
  @Column({ type: 'varchar', length: 32 })
  category: string;

  /** accepted, filtered, rate_limited, invalid, abuse, client_discard. */
  @Column({ type: 'varchar', length: 32 })
  outcome: string;

  @Column({ type: 'varchar', length: 200 })
  reason: string;

  /** The API key the data came with, when known (0: none or unknown). */
  @Column({ name: 'key_id', type: 'integer' })
  keyId: number;

  @Column({ type: 'bigint' })
  quantity: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

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
import { User } from './User.ts';

/** Per-project switches that are not worth a column each. */
export interface ProjectSettings {
  allowAnonymousDumps?: boolean;
}

@Entity({ name: 'projects' })
export class Project extends BaseEntity {
  /** Integer on purpose: Sentry DSNs carry a numeric project id. */
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 100, unique: true })
  slug: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ name: 'owner_id', type: 'integer' })
  ownerId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'owner_id' })
  owner: Relation<User>;

  /** The project registration created for its owner; the default target of user-scoped writes. */
  @Column({ name: 'is_personal', type: 'boolean', default: false })
  isPersonal: boolean;

  @Column({ name: 'retention_days', type: 'integer', default: 90 })
  retentionDays: number;

  @Column({ type: 'jsonb', default: {} })
  settings: ProjectSettings;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

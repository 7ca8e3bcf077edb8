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
import { User } from './User.ts';

export const CHANNEL_TYPES = ['webhook', 'slack', 'discord', 'email'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** What of a channel may be shown again: email recipients. URLs and secrets live sealed in `sealed`. */
export interface ChannelConfig {
  addresses?: string[];
  roles?: Array<'owner' | 'admin' | 'member' | 'viewer'>;
}

/** Where a project's alerts go (src/domain/alerts/channels.ts). */
@Entity({ name: 'alert_channels' })
export class AlertChannel extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  type: ChannelType;

  @Column({ type: 'jsonb', default: {} })
  config: ChannelConfig;

  /** The target with its secret part masked, e.g. https://hooks.slack.com/…/••••3xYz. */
  @Column({ name: 'target_hint', type: 'varchar', length: 300, default: '' })
  targetHint: string;

  /** AES-256-GCM sealed {url, secret}; never leaves the server. */
  @Column({ type: 'text', nullable: true, select: false })
  sealed: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'created_by_id', type: 'integer', nullable: true })
  createdById: number | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'created_by_id' })
  createdBy: Relation<User> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

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
import { AlertChannel } from './AlertChannel.ts';
import { AlertFiring } from './AlertFiring.ts';
import { Project } from './Project.ts';

export type NotificationStatus = 'pending' | 'sent' | 'failed';

/** One message for one channel: a firing's, or a digest's. Its idempotency key goes out with every attempt. */
@Entity({ name: 'alert_notifications' })
export class AlertNotification extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'channel_id', type: 'integer' })
  channelId: number;

  @ManyToOne(() => AlertChannel, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'channel_id' })
  channel: Relation<AlertChannel>;

  @Column({ name: 'firing_id', type: 'bigint', nullable: true })
  firingId: string | null;

  @ManyToOne(() => AlertFiring, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'firing_id' })
  firing: Relation<AlertFiring> | null;

  @Column({ name: 'digest_id', type: 'bigint', nullable: true })
  digestId: string | null;

  @Column({ name: 'idempotency_key', type: 'uuid' })
  idempotencyKey: string;

  @Column({ type: 'varchar', length: 12, default: 'pending' })
  status: NotificationStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

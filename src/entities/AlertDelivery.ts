import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { AlertChannel } from './AlertChannel.ts';
import { Project } from './Project.ts';

export type DeliveryOutcome = 'sent' | 'retry' | 'failed';

/** The delivery log: every attempt to send a notification, with what the receiver said. */
@Entity({ name: 'alert_deliveries' })
export class AlertDelivery extends BaseEntity {
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

  /** No relation declared on purpose: notifications have no admin resource, and AdminJS resolves every relation to one. */
  @Column({ name: 'notification_id', type: 'bigint' })
  notificationId: string;

  @Column({ type: 'integer' })
  attempt: number;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'latency_ms', type: 'integer', nullable: true })
  latencyMs: number | null;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ type: 'varchar', length: 12 })
  outcome: DeliveryOutcome;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}

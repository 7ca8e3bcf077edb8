import { BaseEntity, Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const AUDIT_ACTOR_TYPES = ['user', 'api_key', 'auth_token', 'system'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/**
 * One audit log entry (src/domain/audit). Written only by `record`; the table refuses
 * updates and deletes (see the migration) — this entity exists for the admin's read-only page.
 */
@Entity({ name: 'audit_log' })
export class AuditEntry extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'timestamptz' })
  time: Date;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: AuditActorType;

  @Column({ name: 'actor_id', type: 'integer', nullable: true })
  actorId: number | null;

  @Column({ name: 'actor_label', type: 'varchar', length: 320 })
  actorLabel: string;

  @Column({ type: 'varchar', length: 100 })
  action: string;

  @Column({ name: 'target_type', type: 'varchar', length: 50 })
  targetType: string;

  @Column({ name: 'target_id', type: 'varchar', length: 100, nullable: true })
  targetId: string | null;

  @Column({ name: 'project_id', type: 'integer', nullable: true })
  projectId: number | null;

  @Column({ type: 'jsonb' })
  changes: Record<string, [unknown, unknown]>;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;
}

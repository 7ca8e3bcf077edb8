import { BaseEntity, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { User } from './User.ts';

export const AUTH_TOKEN_SCOPES = ['project:releases'] as const;
export type AuthTokenScope = (typeof AUTH_TOKEN_SCOPES)[number];

/**
 * A user's token for tools (sentry-cli): acts as its user, limited to some projects and
 * scopes. Only the SHA-256 is stored; the secret is shown once.
 */
@Entity({ name: 'auth_tokens' })
export class AuthToken extends BaseEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user: Relation<User>;

  @Column({ type: 'varchar', length: 100, default: '' })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  prefix: string;

  @Column({ name: 'token_hash', type: 'char', length: 64, unique: true, select: false })
  tokenHash: string;

  @Column({ name: 'project_ids', type: 'integer', array: true })
  projectIds: number[];

  @Column({ type: 'text', array: true })
  scopes: AuthTokenScope[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}

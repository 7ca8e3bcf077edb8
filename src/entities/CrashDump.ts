import { BaseEntity, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { ApiKey } from './ApiKey.ts';
import { Project } from './Project.ts';
import { User } from './User.ts';

export const UPLOADER_KINDS = ['user', 'api_key', 'machine', 'anonymous'] as const;
export type UploaderKind = (typeof UPLOADER_KINDS)[number];

/**
 * One crash dump (the crash store). `id` is the crash store's `stored_name`: the uuid the bytes are stored
 * under, at <DUMPS_DIR>/<id[0]>/<id[1]>/<id> — or, once archived, gzip'd under ARCHIVE_DIR.
 * `original_name` is the client's file name, kept for display and downloads only: it
 * never becomes part of a path.
 */
@Entity({ name: 'crash_dumps' })
export class CrashDump extends BaseEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'project_id', type: 'integer' })
  projectId: number;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id' })
  project: Relation<Project>;

  @Column({ name: 'original_name', type: 'varchar', length: 1024, default: '' })
  originalName: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  label: string | null;

  /** Bytes as stored (after decompressing a gzip'd upload). bigint: node-postgres returns a string. */
  @Column({ type: 'bigint' })
  size: string;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ name: 'content_type', type: 'varchar', length: 255, default: 'application/octet-stream' })
  contentType: string;

  /** The crash store's upload timestamp; archiving and retention count from it. */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  time: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;

  @Column({ type: 'boolean', default: false })
  archived: boolean;

  @Column({ name: 'archived_at', type: 'timestamptz', nullable: true })
  archivedAt: Date | null;

  @Column({ name: 'uploader_kind', type: 'varchar', length: 16 })
  uploaderKind: UploaderKind;

  @Column({ name: 'uploader_user_id', type: 'integer', nullable: true })
  uploaderUserId: number | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'uploader_user_id' })
  uploaderUser: Relation<User> | null;

  @Column({ name: 'uploader_key_id', type: 'integer', nullable: true })
  uploaderKeyId: number | null;

  @ManyToOne(() => ApiKey, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'uploader_key_id' })
  uploaderKey: Relation<ApiKey> | null;

  /** What the dumps worker learned: checksum verification, minidump facts or a parse error. */
  @Column({ type: 'jsonb', default: {} })
  info: Record<string, unknown>;

  /** What scrubbing took out before storage ([{path, rule}]; null: nothing) — src/domain/scrubbing. */
  @Column({ type: 'jsonb', nullable: true })
  scrubbed: Array<{ path: string; rule: string }> | null;
}

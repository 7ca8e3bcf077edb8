import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Crash dumps (the crash store): metadata here, bytes on disk (src/storage). */
export class CrashDumps1764300000000 implements MigrationInterface {
  name = 'CrashDumps1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE crash_dumps (
        id               uuid PRIMARY KEY,
        project_id       integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        original_name    varchar(1024) NOT NULL DEFAULT '',
        label            varchar(255),
        size             bigint NOT NULL CHECK (size >= 0),
        sha256           char(64) NOT NULL,
        content_type     varchar(255) NOT NULL DEFAULT 'application/octet-stream',
        -- Milliseconds, not microseconds: the list's keyset cursor carries it as a JavaScript Date.
        "time"           timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        archived         boolean NOT NULL DEFAULT false,
        archived_at      timestamptz,
        uploader_kind    varchar(16) NOT NULL CHECK (uploader_kind IN ('user', 'api_key', 'machine', 'anonymous')),
        uploader_user_id integer REFERENCES users(id) ON DELETE SET NULL,
        uploader_key_id  integer REFERENCES api_keys(id) ON DELETE SET NULL,
        info             jsonb NOT NULL DEFAULT '{}'
      )`);
    // The list: one project, newest first (id breaks ties for the keyset cursor).
    await q.query(`CREATE INDEX ix_crash_dumps_project_time ON crash_dumps (project_id, "time" DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_crash_dumps_project_label ON crash_dumps (project_id, label, "time" DESC) WHERE label IS NOT NULL`);
    // The archive job's scan: live dumps, oldest first.
    await q.query(`CREATE INDEX ix_crash_dumps_live_time ON crash_dumps ("time", id) WHERE NOT archived`);
    // Retention scans by age across projects.
    await q.query(`CREATE INDEX ix_crash_dumps_time ON crash_dumps ("time")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE crash_dumps`);
  }
}

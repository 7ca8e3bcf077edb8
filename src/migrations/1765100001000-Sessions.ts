import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Release health (Sentry sessions): hourly aggregates per release and environment, the
 * users seen per release (for crash-free users), and which session marks were counted
 * already (exactly-once under retries).
 */
export class Sessions1765100001000 implements MigrationInterface {
  name = 'Sessions1765100001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE release_sessions (
        project_id  integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        release     varchar(250) NOT NULL,
        environment varchar(100) NOT NULL DEFAULT '',
        bucket      timestamptz NOT NULL,
        started     bigint NOT NULL DEFAULT 0,
        errored     bigint NOT NULL DEFAULT 0,
        crashed     bigint NOT NULL DEFAULT 0,
        abnormal    bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (project_id, release, environment, bucket)
      )`);
    await q.query(`
      CREATE TABLE release_session_users (
        project_id  integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        release     varchar(250) NOT NULL,
        environment varchar(100) NOT NULL DEFAULT '',
        did         varchar(200) NOT NULL,
        crashed     boolean NOT NULL DEFAULT false,
        errored     boolean NOT NULL DEFAULT false,
        PRIMARY KEY (project_id, release, environment, did)
      )`);
    await q.query(`
      CREATE TABLE session_marks (
        project_id  integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        sid         varchar(100) NOT NULL,
        mark        varchar(16) NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (project_id, sid, mark)
      )`);
    await q.query(`CREATE INDEX ix_session_marks_created ON session_marks (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE session_marks`);
    await q.query(`DROP TABLE release_session_users`);
    await q.query(`DROP TABLE release_sessions`);
  }
}

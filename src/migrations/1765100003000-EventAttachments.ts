import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Sentry attachments (scope.addAttachment) kept with their event; bytes in the artifacts store. */
export class EventAttachments1765100003000 implements MigrationInterface {
  name = 'EventAttachments1765100003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_attachments (
        id              uuid PRIMARY KEY,
        project_id      integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        event_id        varchar(100) NOT NULL,
        name            varchar(1024) NOT NULL,
        content_type    varchar(255) NOT NULL DEFAULT 'application/octet-stream',
        attachment_type varchar(64) NOT NULL DEFAULT 'event.attachment',
        size            bigint NOT NULL CHECK (size >= 0),
        sha256          char(64) NOT NULL,
        blob_key        varchar(200) NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);
    // INCLUDE size: the per-project quota is an index-only sum.
    await q.query(`CREATE INDEX ix_event_attachments_event ON event_attachments (project_id, event_id) INCLUDE (size)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_attachments`);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Staff lists error events across all projects, newest first (the admin's Events page). */
export class ErrorEventsByTime1764400000000 implements MigrationInterface {
  name = 'ErrorEventsByTime1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_events_error_ts ON events ("timestamp" DESC, id DESC) WHERE kind = 'error'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_events_error_ts`);
  }
}

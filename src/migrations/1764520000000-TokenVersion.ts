import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions that end when they should: every access and refresh token carries the
 * token_version it was issued under; a new password or email, or a deactivation or
 * reactivation, bumps it, so every token issued before is refused at once. Tokens issued
 * before this migration carry none, which counts as 0 (the default): they live out their
 * lifetime.
 */
export class TokenVersion1764520000000 implements MigrationInterface {
  name = 'TokenVersion1764520000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN token_version`);
  }
}

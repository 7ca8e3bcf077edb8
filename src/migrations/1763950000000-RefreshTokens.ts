import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Refresh token rotation and revocation (logout, password change, deactivation). */
export class RefreshTokens1763950000000 implements MigrationInterface {
  name = 'RefreshTokens1763950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE refresh_tokens (
        jti        uuid PRIMARY KEY,
        user_id    integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        family     uuid NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at    timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX ix_refresh_tokens_user ON refresh_tokens (user_id)`);
    await q.query(`CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family)`);
    await q.query(`CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refresh_tokens`);
  }
}

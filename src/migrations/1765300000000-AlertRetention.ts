import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the alert-history prune (src/domain/alerts/sweep.ts pruneAlertHistory) walks: by
 * age, and the references it checks before deleting a firing or a digest (which also make
 * the ON DELETE CASCADE / SET NULL from firings and digests cheap).
 */
export class AlertRetention1765300000000 implements MigrationInterface {
  name = 'AlertRetention1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_alert_notifications_age ON alert_notifications (created_at) WHERE status <> 'pending'`);
    await q.query(`CREATE INDEX ix_alert_notifications_firing ON alert_notifications (firing_id) WHERE firing_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_alert_notifications_digest ON alert_notifications (digest_id) WHERE digest_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_alert_firings_age ON alert_firings (created_at)`);
    await q.query(`CREATE INDEX ix_alert_rule_states_firing ON alert_rule_states (firing_id) WHERE firing_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_alert_digests_closed ON alert_digests (period_start) WHERE closed_at IS NOT NULL`);
    await q.query(`CREATE INDEX ix_monitor_checkins_age ON monitor_checkins (started_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const ix of [
      'ix_monitor_checkins_age',
      'ix_alert_digests_closed',
      'ix_alert_rule_states_firing',
      'ix_alert_firings_age',
      'ix_alert_notifications_digest',
      'ix_alert_notifications_firing',
      'ix_alert_notifications_age',
    ]) {
      await q.query(`DROP INDEX ${ix}`);
    }
  }
}

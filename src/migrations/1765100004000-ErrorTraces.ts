import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Error events by trace id (Sentry's contexts.trace.trace_id): a Sentry log at error level
 * in the same trace, about the same exception, is recognised as that event's duplicate
 * (src/domain/issues/duplicates.ts). Partial: only error events are indexed.
 */
export class ErrorTraces1765100004000 implements MigrationInterface {
  name = 'ErrorTraces1765100004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ix_events_error_trace ON events (project_id, (data #>> '{contexts,trace,trace_id}')) WHERE kind = 'error'`);
    // …and the other way round: Sentry error logs by trace, for when the log came first.
    await q.query(
      `CREATE INDEX ix_events_sentry_error_log_trace ON events (project_id, (tags ->> 'trace_id'))
        WHERE kind = 'log' AND origin = 'sentry' AND level IN ('error', 'critical') AND issue_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_events_sentry_error_log_trace`);
    await q.query(`DROP INDEX ix_events_error_trace`);
  }
}

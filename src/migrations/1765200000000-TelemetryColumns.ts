import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What OpenTelemetry brings to the existing tables. Trace ids on every kind (errors,
 * logs, LLM calls), so one trace view joins them with the spans of a request
 * (GET /api/traces/{trace_id}/); on LLM calls also cached prompt tokens, the error of a
 * failed call, the door it came in by, and its cost. Nullable columns are added
 * instantly; the trace indexes are partial (only rows with a trace id), so ingest that
 * sends none pays nothing for them.
 */
export class TelemetryColumns1765200000000 implements MigrationInterface {
  name = 'TelemetryColumns1765200000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of ['events', 'llm_logs']) {
      await q.query(`ALTER TABLE ${table} ADD COLUMN trace_id varchar(32), ADD COLUMN span_id varchar(16)`);
      await q.query(`CREATE INDEX ix_${table}_trace ON ${table} (trace_id) WHERE trace_id IS NOT NULL`);
    }
    await q.query(`
      ALTER TABLE llm_logs
        ADD COLUMN cached_tokens integer,
        ADD COLUMN error varchar(1000),
        ADD COLUMN origin varchar(16),
        -- US dollars, from the price table when the call was stored (src/domain/llm/prices.ts)
        ADD COLUMN cost double precision`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE llm_logs DROP COLUMN cached_tokens, DROP COLUMN error, DROP COLUMN origin, DROP COLUMN cost`);
    for (const table of ['events', 'llm_logs']) {
      await q.query(`DROP INDEX ix_${table}_trace`);
      await q.query(`ALTER TABLE ${table} DROP COLUMN trace_id, DROP COLUMN span_id`);
    }
  }
}

import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { config } from '../config.ts';
import { pruneAuditLog } from '../domain/audit/index.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';

/** `prune-audit-log` (repeatable, AUDIT_LOG_PRUNE_SCHEDULE): entries past AUDIT_LOG_RETENTION_DAYS. Idempotent. */
export function pruneAuditLogProcessor(ds: DataSource, log: Logger) {
  return async (job: Job): Promise<{ deleted: number }> => {
    const parsed = JOBS['prune-audit-log'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid prune-audit-log payload: ${parsed.error.message.slice(0, 500)}`);
    const days = parsed.data.retention_days ?? config.housekeeping.auditLogRetentionDays;
    const deleted = await pruneAuditLog(ds, days, parsed.data.batch_size);
    if (deleted) log.info({ jobId: job.id, deleted, days }, 'audit log entries past retention pruned');
    return { deleted };
  };
}

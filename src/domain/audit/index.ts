/**
 * The audit log (issue 16): `record` appends an entry (inside the change's transaction
 * when given its EntityManager), `diff` builds redacted before/after pairs, `listAuditLog`
 * reads within a Scope, `pruneAuditLog` is retention. The HTTP edge records through
 * src/api/audit.ts, the admin through src/admin/audit.ts.
 */
export { diff, isSecretField, record, redactValue, REDACTED, SYSTEM, type AuditActor, type AuditInput, type Changes } from './record.ts';
export { listAuditLog, serializeAuditRow, type AuditFilter, type AuditRow } from './query.ts';
export { pruneAuditLog } from './retention.ts';

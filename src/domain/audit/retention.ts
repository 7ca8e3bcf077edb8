import type { DataSource } from 'typeorm';

/**
 * Retention, the audit log's only delete path: entries older than `days` go, in batches,
 * through prune_audit_log() — the one function the table's trigger lets delete. `days`
 * 0 keeps everything.
 */
export async function pruneAuditLog(ds: DataSource, days: number, batchSize = 5000): Promise<number> {
  if (days <= 0) return 0;
  let total = 0;
  for (;;) {
    const [{ n }]: Array<{ n: number }> = await ds.query(`SELECT prune_audit_log($1, $2) AS n`, [days, batchSize]);
    total += n;
    if (n < batchSize) return total;
  }
}

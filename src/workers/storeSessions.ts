import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sqlOf } from '../db/sql.ts';
import { storeSessionMarks } from '../domain/sessions/store.ts';
import type { Logger } from '../logger.ts';
import { JOBS } from '../queues/contract.ts';

const isForeignKeyError = (err: unknown) => (err as { code?: string }).code === '23503';

/** `store-sessions`: release health marks, counted once each (src/domain/sessions/store.ts). */
export function storeSessionsProcessor(ds: DataSource, log: Logger) {
  const sql = sqlOf(ds);
  return async (job: Job): Promise<{ marks: number }> => {
    const parsed = JOBS['store-sessions'].payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid store-sessions payload: ${parsed.error.message.slice(0, 500)}`);
    try {
      await storeSessionMarks(sql, parsed.data.items);
    } catch (err) {
      if (!isForeignKeyError(err)) throw err;
      // A project deleted while its sessions waited: they go with it.
      const alive = new Set(
        (
          await ds.query(`SELECT id FROM projects WHERE id = ANY($1::int[])`, [[...new Set(parsed.data.items.map((m) => m.project_id))]])
        ).map((r: { id: number }) => r.id),
      );
      log.warn({ jobId: job.id }, 'sessions of deleted projects dropped');
      await storeSessionMarks(
        sql,
        parsed.data.items.filter((m) => alive.has(m.project_id)),
      );
    }
    return { marks: parsed.data.items.length };
  };
}

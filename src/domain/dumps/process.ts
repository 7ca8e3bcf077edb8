import { pipeline } from 'node:stream';
import type { DataSource } from 'typeorm';
import type { DumpStores } from '../../storage/index.ts';
import { AppError } from '../errors.ts';
import { openDumpBytes, pagedReader } from './bytes.ts';
import { isMinidump, MinidumpError, parseMinidump } from './minidump.ts';
import { DumpMeter } from './streams.ts';

export interface ProcessContext {
  ds: DataSource;
  stores: DumpStores;
}

export type ProcessOutcome = 'processed' | 'gone' | 'superseded';

/**
 * Post-processing of one stored dump: re-reads the bytes to verify the checksum taken
 * at upload, and for minidumps records OS, CPU, crash reason and modules in `info`.
 * A dump that cannot be parsed gets `minidump_error`, never a failed job: only
 * infrastructure errors (database, storage) throw, so BullMQ retries those alone.
 * Idempotent: the same facts are merged again.
 */
export async function processDump(ctx: ProcessContext, id: string, expectedSha256?: string): Promise<ProcessOutcome> {
  const rows: Array<{ sha256: string; size: string; archived: boolean }> = await ctx.ds.query(
    `SELECT sha256, size, archived FROM crash_dumps WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return 'gone';
  // The file was replaced after this job was queued: the replacement's own job handles it.
  if (expectedSha256 && row.sha256 !== expectedSha256) return 'superseded';

  const dump = { id, archived: row.archived };
  const facts: Record<string, unknown> = { processed_at: new Date().toISOString() };
  const meter = new DumpMeter();
  try {
    for await (const chunk of pipeline(await openDumpBytes(ctx.stores, dump), meter, () => undefined)) void chunk;
    facts.checksum = meter.digest() === row.sha256 && meter.size === Number(row.size) ? 'verified' : 'mismatch';
  } catch (err) {
    if (err instanceof AppError && err.code === 'dump_bytes_missing') {
      facts.status = 'error';
      facts.checksum = 'missing';
      await merge(ctx.ds, id, row.sha256, facts);
      return 'processed';
    }
    throw err;
  }

  if (isMinidump(meter.head)) {
    try {
      facts.minidump = await parseMinidump(pagedReader(ctx.stores, dump), Number(row.size));
    } catch (err) {
      if (!(err instanceof MinidumpError) && !(err instanceof RangeError)) throw err;
      facts.minidump_error = err.message;
    }
  }
  facts.status = facts.checksum === 'verified' && !facts.minidump_error ? 'processed' : 'error';
  await merge(ctx.ds, id, row.sha256, facts);
  return 'processed';
}

/** Only onto the version we looked at: a replace in the meantime resets info and queues its own job. */
async function merge(ds: DataSource, id: string, sha256: string, facts: Record<string, unknown>): Promise<void> {
  await ds.query(`UPDATE crash_dumps SET info = (info - 'minidump_error') || $3::jsonb WHERE id = $1 AND sha256 = $2`, [
    id,
    sha256,
    JSON.stringify(facts),
  ]);
}

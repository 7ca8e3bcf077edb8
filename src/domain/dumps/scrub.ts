import type { DataSource } from 'typeorm';
import { scrubDump, type RuleBook } from '../scrubbing/records.ts';

/**
 * A dump's label (set by the uploader) and its facts (read from the minidump: command
 * line, environment, module paths) through the project's scrubber, once processed. The
 * bytes themselves are the crash and are kept as uploaded.
 */
export async function scrubStoredDump(ds: DataSource, book: RuleBook, id: string): Promise<void> {
  const rows: Array<{ project_id: number; label: string | null; info: Record<string, unknown> | null }> = await ds.query(
    `SELECT project_id, label, info FROM crash_dumps WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return;
  const scrubber = (await book.scrubbers([row.project_id])).get(row.project_id)!;
  const out = scrubDump(scrubber, { label: row.label, info: row.info ?? {} });
  if (!out.scrubbed) return;
  await ds.query(`UPDATE crash_dumps SET label = $2, info = $3::jsonb, scrubbed = $4::jsonb WHERE id = $1`, [
    id,
    out.label,
    JSON.stringify(out.info),
    JSON.stringify(out.scrubbed),
  ]);
}

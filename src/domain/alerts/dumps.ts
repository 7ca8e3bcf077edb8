import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { sqlOf } from '../../db/sql.ts';
import { recordFiring, rulesFor } from './firings.ts';
import type { Outgoing } from './jobs.ts';
import { links } from './links.ts';
import type { FiringPayload } from './messages.ts';
import { inTransaction } from './tx.ts';
import type { AlertJobs } from './jobs.ts';

/**
 * dump.received, once a dump is processed (its minidump facts known). With
 * `new_crash_only` the firing key is the crash reason + main module, so a rule fires for
 * the first dump of each such pair in the project and never again for it; otherwise the
 * key is the dump. Re-processing a dump (a retried job, the retention sweep) fires nothing new.
 */
export async function dumpReceived(ds: DataSource, jobs: AlertJobs, dumpId: string): Promise<number> {
  const [dump]: Array<{
    id: string;
    project_id: number;
    label: string | null;
    original_name: string;
    size: string;
    info: Record<string, unknown>;
  }> = await ds.query(`SELECT id, project_id, label, original_name, size, info FROM crash_dumps WHERE id = $1`, [dumpId]);
  if (!dump) return 0;
  const rules = await rulesFor(sqlOf(ds), dump.project_id, ['dump.received']);
  if (!rules.length) return 0;
  const md = (dump.info.minidump ?? {}) as {
    crash_reason?: string | null;
    main_module?: string | null;
    os?: string | null;
    cpu_arch?: string | null;
  };
  const reason = md.crash_reason ?? null;
  const module = md.main_module ?? null;
  const url = links.dump(dump.id);
  const payload: FiringPayload = {
    title: `Crash dump${reason ? `: ${reason}` : ''}${module ? ` in ${module}` : ''}`,
    text: `${dump.original_name || 'A dump'} (${Math.round(Number(dump.size) / 1024)} KiB)${dump.label ? `, label ${dump.label}` : ''} was received.`,
    url,
    level: 'critical',
    facts: [
      ...(reason ? [{ label: 'Crash reason', value: reason }] : []),
      ...(module ? [{ label: 'Module', value: module }] : []),
      ...(md.os ? [{ label: 'OS', value: md.os }] : []),
      ...(dump.label ? [{ label: 'Label', value: dump.label }] : []),
    ],
    dump: { id: dump.id, label: dump.label, crash_reason: reason, main_module: module, url },
  };
  const crashKey = createHash('sha256')
    .update(`${reason ?? ''}\u0000${module ?? ''}`)
    .digest('hex')
    .slice(0, 32);
  const out: Outgoing[] = [];
  let fired = 0;
  await inTransaction(ds, async (q) => {
    for (const rule of rules) {
      const onlyNew = (rule.params as { new_crash_only?: boolean }).new_crash_only === true;
      const r = await recordFiring(q, {
        projectId: dump.project_id,
        rule,
        trigger: 'dump.received',
        triggerKey: onlyNew ? `crash:${crashKey}` : `dump:${dump.id}`,
        subject: onlyNew ? `crash:${crashKey}` : '_',
        kind: 'firing',
        payload,
      });
      if (r.created) fired++;
      out.push(...r.outgoing);
    }
  });
  await jobs.deliver(out);
  return fired;
}

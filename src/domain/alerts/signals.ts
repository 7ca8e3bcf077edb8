import type { DataSource } from 'typeorm';
import { sqlOf } from '../../db/sql.ts';
import type { Level } from '../levels.ts';
import { filtersMatch } from './filters.ts';
import { recordFiring, rulesFor, type RuleRow } from './firings.ts';
import type { Outgoing } from './jobs.ts';
import { links } from './links.ts';
import type { FiringPayload } from './messages.ts';
import { inTransaction } from './tx.ts';
import type { AlertJobs } from './jobs.ts';

interface SignalRow {
  id: string;
  project_id: number;
  issue_id: string;
  kind: 'issue.new' | 'issue.regressed';
  title: string;
  culprit: string | null;
  issue_level: Level;
  issue_status: string;
  times_seen: string;
  event_row_id: string | null;
  event_id: string | null;
  environment: string | null;
  service: string | null;
  level: Level | null;
  message: string | null;
  exception_type: string | null;
  tags: Record<string, unknown> | null;
}

const SELECT = `SELECT s.id, s.project_id, s.issue_id, s.kind, i.title, i.culprit, i.level AS issue_level, i.status AS issue_status, i.times_seen,
                       e.id AS event_row_id, e.event_id, e.environment, e.service, e.level, e.message, e.exception_type, e.tags
                  FROM alert_signals s JOIN issues i ON i.id = s.issue_id LEFT JOIN events e ON e.id = s.event_row_id`;

/** Signals older than this are the sweeper's: their job was lost (a crash between commit and enqueue). */
export const SIGNAL_GRACE_MS = 30_000;

function payloadOf(s: SignalRow): FiringPayload {
  const url = links.issue(s.issue_id);
  const where = [s.environment && `in ${s.environment}`, s.service && `(${s.service})`].filter(Boolean).join(' ');
  const facts = [
    { label: 'Level', value: s.level ?? s.issue_level },
    ...(s.environment ? [{ label: 'Environment', value: s.environment }] : []),
    ...(s.service ? [{ label: 'Service', value: s.service }] : []),
    ...(s.culprit ? [{ label: 'Culprit', value: s.culprit }] : []),
  ];
  const isNew = s.kind === 'issue.new';
  return {
    title: `${isNew ? 'New issue' : 'Regression'}: ${s.title}`,
    text: isNew
      ? `First seen${where ? ` ${where}` : ''}.`
      : `A resolved issue happened again${where ? ` ${where}` : ''}; it is unresolved now.`,
    url,
    level: s.level ?? s.issue_level,
    facts,
    issue: {
      id: s.issue_id,
      title: s.title,
      culprit: s.culprit,
      level: s.issue_level,
      status: s.issue_status,
      times_seen: Number(s.times_seen),
      url,
    },
    event:
      s.event_row_id && s.event_id
        ? {
            id: s.event_row_id,
            event_id: s.event_id,
            environment: s.environment,
            service: s.service,
            level: s.level ?? s.issue_level,
            message: (s.message ?? '').slice(0, 1000),
            url: links.event(s.event_row_id),
          }
        : undefined,
  };
}

/**
 * issue.new and issue.regressed, from the store statement's outbox. Each signal, with
 * the firings of every rule it matches, is handled in one transaction that also marks
 * it processed; the firing keys (`issue.new:<issue>`, `issue.regressed:<issue>:<signal>`)
 * make a signal handled twice (job and sweeper at once) fire once.
 */
export async function processSignals(ds: DataSource, jobs: AlertJobs, ids?: string[]): Promise<{ processed: number; fired: number }> {
  const rows: SignalRow[] = ids
    ? await ds.query(`${SELECT} WHERE s.id = ANY($1::bigint[]) AND s.processed_at IS NULL ORDER BY s.id`, [ids])
    : await ds.query(
        `${SELECT} WHERE s.processed_at IS NULL AND s.created_at < now() - make_interval(secs => $1) ORDER BY s.id LIMIT 1000`,
        [SIGNAL_GRACE_MS / 1000],
      );
  const rulesOf = new Map<string, RuleRow[]>();
  let fired = 0;
  for (const s of rows) {
    const key = `${s.project_id}:${s.kind}`;
    if (!rulesOf.has(key)) rulesOf.set(key, await rulesFor(sqlOf(ds), s.project_id, [s.kind]));
    const rules = rulesOf.get(key)!;
    const facts = {
      level: s.level ?? s.issue_level,
      environment: s.environment,
      service: s.service,
      tags: s.tags ?? {},
      message: s.message ?? '',
      exception_type: s.exception_type,
    };
    const out: Outgoing[] = [];
    await inTransaction(ds, async (q) => {
      for (const rule of rules) {
        if (!filtersMatch(rule.filters, facts)) continue;
        const triggerKey = s.kind === 'issue.new' ? `issue.new:${s.issue_id}` : `issue.regressed:${s.issue_id}:${s.id}`;
        const r = await recordFiring(q, {
          projectId: s.project_id,
          rule,
          trigger: s.kind,
          triggerKey,
          subject: s.issue_id,
          kind: 'firing',
          payload: payloadOf(s),
        });
        if (r.created) fired++;
        out.push(...r.outgoing);
      }
      await q.query(`UPDATE alert_signals SET processed_at = now() WHERE id = $1`, [s.id]);
    });
    await jobs.deliver(out);
  }
  return { processed: rows.length, fired };
}

/**
 * Sentry release health: `session` items (one session's updates: init, errors, its end)
 * and `sessions` items (pre-aggregated counts per minute, sent by SDKs in server mode),
 * turned into "marks" — one row per thing a session did that counts (it started, it
 * errored, it crashed, it ended abnormally). A mark is counted once per session however
 * often an update is re-sent (src/domain/sessions/store.ts keeps what was counted), so
 * the aggregates stay exact under client retries and re-delivered jobs.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { cleanText } from '../events/record.ts';

export const SESSION_MARKS = ['started', 'errored', 'crashed', 'abnormal', 'aggregate'] as const;

export const SessionMarkSchema = z.object({
  project_id: z.number().int().positive(),
  /** The session id; for aggregates, a digest of the item and the row. */
  sid: z.string().min(1).max(100),
  mark: z.enum(SESSION_MARKS),
  release: z.string().min(1).max(250),
  environment: z.string().max(100),
  /** The hour the session started in (ISO). */
  bucket: z.iso.datetime(),
  started: z.number().int().min(0),
  errored: z.number().int().min(0),
  crashed: z.number().int().min(0),
  abnormal: z.number().int().min(0),
  /** The user (Sentry's distinct id), for crash-free users. */
  did: z.string().max(200).nullable(),
});
export type SessionMark = z.infer<typeof SessionMarkSchema>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' && v.trim() ? cleanText(v.trim()) : undefined);
const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(Math.trunc(v), 1e9) : 0);

function hourOf(v: unknown, fallback: string): string {
  const ms = typeof v === 'number' ? (v > 1e11 ? v : v * 1000) : typeof v === 'string' ? Date.parse(v) : NaN;
  const d = new Date(Number.isFinite(ms) && ms > 0 && ms < 253402300800000 ? ms : Date.parse(fallback));
  d.setUTCMinutes(0, 0, 0);
  return d.toISOString();
}

function attrsOf(p: Obj): { release?: string; environment: string } {
  const attrs = isObj(p.attrs) ? p.attrs : {};
  return { release: str(attrs.release)?.slice(0, 250), environment: (str(attrs.environment) ?? '').slice(0, 100) };
}

/** One `session` item → its marks; none when it names no release (release health needs one). */
export function sessionMarks(payload: unknown, projectId: number, receivedAt: string): SessionMark[] {
  if (!isObj(payload)) return [];
  const sid = str(payload.sid)?.slice(0, 100);
  const { release, environment } = attrsOf(payload);
  if (!sid || !release) return [];
  const base = {
    project_id: projectId,
    sid,
    release,
    environment,
    bucket: hourOf(payload.started ?? payload.timestamp, receivedAt),
    did: str(payload.did)?.slice(0, 200) ?? null,
    started: 0,
    errored: 0,
    crashed: 0,
    abnormal: 0,
  };
  const status = str(payload.status) ?? 'ok';
  const out: SessionMark[] = [];
  if (payload.init === true) out.push({ ...base, mark: 'started', started: 1 });
  // "errored" counts every session that saw an error, crashes included; "crashed" only crashes.
  if (count(payload.errors) > 0 || status === 'errored' || status === 'crashed' || status === 'abnormal')
    out.push({ ...base, mark: 'errored', errored: 1 });
  if (status === 'crashed') out.push({ ...base, mark: 'crashed', crashed: 1 });
  if (status === 'abnormal') out.push({ ...base, mark: 'abnormal', abnormal: 1 });
  return out;
}

/** One `sessions` item (aggregates) → one mark per aggregate row, keyed by the item's digest. */
export function sessionAggregateMarks(payload: unknown, projectId: number, receivedAt: string): SessionMark[] {
  if (!isObj(payload) || !Array.isArray(payload.aggregates)) return [];
  const { release, environment } = attrsOf(payload);
  if (!release) return [];
  const digest = createHash('sha256').update(JSON.stringify(payload)).digest('hex').slice(0, 40);
  return payload.aggregates
    .filter(isObj)
    .slice(0, 1000)
    .map((a, i) => {
      const exited = count(a.exited);
      const errored = count(a.errored);
      const crashed = count(a.crashed);
      const abnormal = count(a.abnormal);
      return {
        project_id: projectId,
        sid: `agg:${digest}:${i}`,
        mark: 'aggregate' as const,
        release,
        environment,
        bucket: hourOf(a.started, receivedAt),
        did: str(a.did)?.slice(0, 200) ?? null,
        started: exited + errored + crashed + abnormal,
        errored: errored + crashed + abnormal,
        crashed,
        abnormal,
      };
    });
}

/** An envelope's `session` or `sessions` item → marks; an unreadable item has none. */
export function sessionItemMarks(
  type: 'session' | 'sessions',
  item: { payload: Buffer },
  projectId: number,
  receivedAt: string,
): SessionMark[] {
  let json: unknown;
  try {
    json = JSON.parse(item.payload.toString('utf8'));
  } catch {
    return [];
  }
  return type === 'session' ? sessionMarks(json, projectId, receivedAt) : sessionAggregateMarks(json, projectId, receivedAt);
}

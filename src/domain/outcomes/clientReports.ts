import type { OutcomeInput } from './recorder.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

/**
 * The lists of a Sentry `client_report` item: what the SDK itself did not send, and why.
 * `discarded_events` is today's (reasons such as ratelimit_backoff, queue_overflow,
 * sample_rate, before_send, event_processor, network_error, cache_overflow, send_error,
 * buffer_overflow); older SDKs sent the other three. All of them are the client's own
 * decision, so all become `client_discard` outcomes; the older lists' names are kept as
 * the reason when an entry has none.
 */
const LISTS = ['discarded_events', 'rate_limited_events', 'filtered_events', 'filtered_sampling_events'] as const;
const DEFAULT_REASON: Record<(typeof LISTS)[number], string> = {
  discarded_events: 'unknown',
  rate_limited_events: 'ratelimit_backoff',
  filtered_events: 'event_processor',
  filtered_sampling_events: 'sample_rate',
};
/** A client report speaks for one SDK's last minute or so: a quantity past this is not believed. */
const MAX_QUANTITY = 10_000_000;
const MAX_ENTRIES = 200;

/**
 * The outcomes in a client report, or null when the payload is not one (then it is
 * counted as an invalid item). Entries with a bad quantity are skipped, not fatal.
 */
export function clientReportOutcomes(payload: unknown, projectId: number, keyId?: number): OutcomeInput[] | null {
  if (!isObj(payload)) return null;
  const out: OutcomeInput[] = [];
  for (const list of LISTS) {
    const entries = payload[list];
    if (!Array.isArray(entries)) continue;
    for (const e of entries.slice(0, MAX_ENTRIES)) {
      if (!isObj(e)) continue;
      const quantity = typeof e.quantity === 'number' && Number.isInteger(e.quantity) ? e.quantity : 0;
      if (quantity <= 0 || quantity > MAX_QUANTITY) continue;
      const reason = typeof e.reason === 'string' && /^[\w.:-]{1,64}$/.test(e.reason) ? e.reason : DEFAULT_REASON[list];
      out.push({
        projectId,
        keyId,
        category: typeof e.category === 'string' ? e.category : 'unknown',
        outcome: 'client_discard',
        reason,
        quantity,
      });
    }
  }
  return out;
}

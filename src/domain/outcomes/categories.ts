/**
 * The vocabulary of outcomes, as Sentry's Relay and stats page name it: what happened
 * (the outcome), to which kind of data (the data category), and why (a short reason).
 */

/** What happened to the data. `accepted` is counted for the Sentry endpoints; the rest are what was dropped. */
export const OUTCOMES = ['accepted', 'filtered', 'rate_limited', 'invalid', 'abuse', 'client_discard', 'cardinality_limited'] as const;
export type OutcomeName = (typeof OUTCOMES)[number];

/**
 * Sentry's data categories (the names SDKs use in client reports and in
 * X-Sentry-Rate-Limits), plus ours: `llm_log` and `dump` (crash dump uploads).
 */
export const CATEGORIES = [
  'default',
  'error',
  'transaction',
  'span',
  'attachment',
  'session',
  'log',
  'log_item',
  'log_byte',
  'llm_log',
  'dump',
  'security',
  'profile',
  'profile_chunk',
  'replay',
  'monitor',
  'feedback',
  'user_report',
  'metric_bucket',
  'internal',
  'unknown',
] as const;
export type Category = (typeof CATEGORIES)[number];

const KNOWN = new Set<string>(CATEGORIES);

/** A category as a client named it: a known one, or `unknown` (a client report is not trusted to invent labels). */
export const categoryOf = (name: unknown): Category => (typeof name === 'string' && KNOWN.has(name) ? (name as Category) : 'unknown');

/** The data category of an envelope item type (Relay's mapping, with our own names where we store differently). */
export function itemCategory(type: string): Category {
  switch (type) {
    case 'event':
      return 'error';
    case 'transaction':
      return 'transaction';
    case 'span':
    case 'otel_span':
      return 'span';
    case 'attachment':
      return 'attachment';
    case 'session':
    case 'sessions':
      return 'session';
    case 'log':
    case 'otel_log':
      return 'log';
    case 'feedback':
      return 'feedback';
    case 'user_report':
      return 'user_report';
    case 'check_in':
      return 'monitor';
    case 'profile':
      return 'profile';
    case 'profile_chunk':
      return 'profile_chunk';
    case 'replay_event':
    case 'replay_recording':
    case 'replay_video':
      return 'replay';
    case 'statsd':
    case 'metric_buckets':
      return 'metric_bucket';
    case 'security':
      return 'security';
    case 'client_report':
      return 'internal';
    default:
      return 'unknown';
  }
}

/** An item type as a reason's suffix: short, printable, never a way to blow up the label space with junk. */
export const itemTypeName = (type: unknown): string =>
  typeof type === 'string' && /^[a-z0-9_.-]{1,40}$/i.test(type) ? type.toLowerCase() : 'unnamed';

/** The category of what an ingest route takes, for refusals counted before any item was read. */
export function routeCategory(kind: string): Category {
  switch (kind) {
    case 'sentry':
    case 'error':
      return 'error';
    case 'log':
    case 'logs':
      return 'log';
    case 'llm':
      return 'llm_log';
    case 'dump':
      return 'dump';
    case 'check_in':
      return 'monitor';
    case 'otlp':
      return 'span';
    case 'security':
      return 'security';
    default:
      return 'default';
  }
}

import type { QuotaCategory } from './limits.ts';
import type { Refusal } from './quotas.ts';

/**
 * Sentry's data categories for ours, as SDKs map envelope items to them (@sentry/core
 * envelopeItemTypeToDataCategory): event → error, log → log_item, transaction and span,
 * attachment. `default` and `security` are events too (messages, CSP reports); `feedback`
 * items are stored as log events. LLM logs have no Sentry category (they come from AI spans).
 */
export const SENTRY_CATEGORIES: Record<QuotaCategory, readonly string[]> = {
  error: ['error', 'default', 'security'],
  // Feedback is stored as a log event (event_type feedback).
  log: ['log_item', 'log_byte', 'feedback'],
  span: ['transaction', 'span'],
  dump_bytes: ['attachment'],
  llm: [],
};

/**
 * Sentry's `X-Sentry-Rate-Limits`: `<retry_after>:<category;…>:<scope>:<reason_code>`,
 * one group per refusal, comma-separated (Relay's format; SDKs read the first two fields
 * and stop sending those categories for retry_after seconds).
 */
export function sentryRateLimits(refusals: readonly Pick<Refusal, 'category' | 'scope' | 'reason' | 'retryAfterSeconds'>[]): string {
  return refusals
    .filter((r) => SENTRY_CATEGORIES[r.category].length)
    .map((r) => `${r.retryAfterSeconds}:${SENTRY_CATEGORIES[r.category].join(';')}:${r.scope}:${r.reason}`)
    .join(', ');
}

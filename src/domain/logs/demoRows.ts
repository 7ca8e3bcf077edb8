import { randomBytes } from 'node:crypto';
import type { Level } from '../levels.ts';

/**
 * Realistic demo rows, as the logs dashboard's generate_demo_data.py describes them: its severity
 * mix, 20 sources, severity-appropriate messages, 30% with extra context, and times
 * weighted toward the last 7 days. A seeded generator, so a benchmark's data set is
 * the same from run to run.
 */
export const SEVERITY_MIX: Array<[Level, number]> = [
  ['info', 0.4],
  ['warning', 0.25],
  ['debug', 0.2],
  ['error', 0.12],
  ['critical', 0.03],
];

export const SOURCES = [
  'auth_service',
  'database_service',
  'api_gateway',
  'payment_service',
  'notification_service',
  'user_service',
  'order_service',
  'inventory_service',
  'email_service',
  'cache_service',
  'search_service',
  'analytics_service',
  'file_storage',
  'scheduler',
  'webapp',
  'mobile_api',
  'billing_service',
  'recommendation_engine',
  'logging_service',
  'monitoring_agent',
];

const ENVIRONMENTS: Array<[string, number]> = [
  ['production', 0.6],
  ['staging', 0.25],
  ['development', 0.15],
];

const MESSAGES: Record<Level, string[]> = {
  debug: [
    'Database query executed successfully - Duration: {ms}ms',
    'Cache lookup for key user:{id} - hit',
    'Request payload validated - Fields: {n}',
    'Background job heartbeat - Queue depth: {n}',
    'Feature flag evaluated - Flag: new_checkout, Result: {bool}',
  ],
  info: [
    'User login successful - User ID: {id}',
    'Order {id} created - Items: {n}',
    'Payment processed - Amount: ${amount}',
    'Email sent to user {id} - Template: welcome',
    'Scheduled report generated - Rows: {n}',
    'Session started - Session: {session}',
  ],
  warning: [
    'High memory usage detected - Memory: {mb}MB',
    'Slow query detected - Duration: {ms}ms',
    'Rate limit approaching for client {id} - Requests: {n}',
    'Retrying request to upstream - Attempt: {n}',
    'Disk usage above 80% - Volume: /var/data',
  ],
  error: [
    'Database connection failed - Session: {session}',
    'Payment gateway timeout - Order: {id}',
    'Failed to send notification - User ID: {id}',
    'Unhandled exception in request handler - Path: /api/orders/{id}',
    'Upstream service returned 502 - Attempt: {n}',
  ],
  critical: [
    'System out of memory - Critical security vulnerability',
    'Database cluster unreachable - Failover started',
    'Data corruption detected in table orders - Rows: {n}',
    'Certificate expired for api.example.com - TLS handshakes failing',
    'Disk full on primary - Writes rejected',
  ],
};

/** mulberry32: tiny, fast, good enough for demo data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function weighted<T>(rand: () => number, table: Array<[T, number]>): T {
  let r = rand();
  for (const [value, weight] of table) if ((r -= weight) < 0) return value;
  return table[table.length - 1][0];
}

const pick = <T>(rand: () => number, list: T[]): T => list[Math.floor(rand() * list.length)];

/** 70% within the last 7 days, the rest spread over the 23 days before. */
export function demoTime(rand: () => number, now: number): Date {
  const day = 86_400_000;
  const back = rand() < 0.7 ? rand() * 7 * day : 7 * day + rand() * 23 * day;
  return new Date(now - back);
}

function fill(rand: () => number, template: string): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    switch (k) {
      case 'ms':
        return String(5 + Math.floor(rand() * 2000));
      case 'id':
        return String(1 + Math.floor(rand() * 99_999));
      case 'n':
        return String(1 + Math.floor(rand() * 500));
      case 'mb':
        return String(256 + Math.floor(rand() * 3840));
      case 'amount':
        return (1 + rand() * 999).toFixed(2);
      case 'session':
        return String(10_000 + Math.floor(rand() * 89_999));
      case 'bool':
        return rand() < 0.5 ? 'true' : 'false';
      default:
        return k;
    }
  });
}

export interface DemoLog {
  event_id: string;
  timestamp: Date;
  level: Level;
  message: string;
  service: string;
  environment: string;
  user_ref: string | null;
  extra: Record<string, unknown>;
}

/** Unique per run (random prefix) so repeated runs without --clear add rows, never collide. */
export function demoIds(): (i: number) => string {
  const run = randomBytes(6).toString('hex');
  return (i) => `demo-${run}-${i.toString(36)}`;
}

export function demoLog(rand: () => number, now: number, eventId: string): DemoLog {
  const level = weighted(rand, SEVERITY_MIX);
  const withContext = rand() < 0.3;
  return {
    event_id: eventId,
    timestamp: demoTime(rand, now),
    level,
    message: fill(rand, pick(rand, MESSAGES[level])),
    service: pick(rand, SOURCES),
    environment: weighted(rand, ENVIRONMENTS),
    user_ref: withContext ? String(1 + Math.floor(rand() * 5000)) : null,
    extra: withContext
      ? {
          user_id: 1 + Math.floor(rand() * 5000),
          duration_ms: Math.floor(rand() * 3000),
          memory_mb: 128 + Math.floor(rand() * 2048),
          request_id: Math.floor(rand() * 1e9).toString(16),
        }
      : {},
  };
}

const MODELS: Array<[string, string, number]> = [
  ['gpt-4', 'gpt-4-0613', 900],
  ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 350],
  ['claude-3-haiku', 'claude-3-haiku-20240307', 400],
  ['llama-3-70b', 'llama-3-70b-instruct', 700],
];
const QUESTIONS = [
  ['What is the capital of France?', 'The capital of France is Paris.'],
  ['Summarize this support ticket in one sentence.', 'The customer cannot reset their password because the email never arrives.'],
  ['Translate "good morning" to Spanish.', 'Buenos días.'],
  ['Write a SQL query counting orders per day.', "SELECT date_trunc('day', created_at), count(*) FROM orders GROUP BY 1;"],
  ['Classify the sentiment of: "The delivery was late again."', 'negative'],
];

export function demoLlmCall(rand: () => number, now: number, eventId: string) {
  const [source, model, baseLatency] = pick(rand, MODELS);
  const [query, response] = pick(rand, QUESTIONS);
  const prompt = 8 + Math.floor(rand() * 400);
  const completion = 4 + Math.floor(rand() * 300);
  const latency = Math.round(baseLatency * (0.5 + rand()));
  return {
    event_id: eventId,
    timestamp: demoTime(rand, now),
    user_ref: `user${1 + Math.floor(rand() * 200)}`,
    source,
    model,
    query,
    response,
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    latency_ms: latency,
    metadata: {
      tokens: prompt + completion,
      prompt_tokens: prompt,
      completion_tokens: completion,
      model_version: model,
      latency_ms: latency,
      session_id: Math.floor(rand() * 1e6).toString(36),
    },
  };
}

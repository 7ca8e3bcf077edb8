/**
 * The one place that reads process.env. Everything else imports `config`.
 *
 * Values are parsed with zod (coerced, defaulted, cross-checked) into a frozen object.
 * A bad value stops the process with a message naming the variable.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHmac, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { hasHashTag, parseRedisTarget } from './queues/redisUrl.ts';

const parseSize = (v: string, ctx: z.RefinementCtx): number => {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `expected a size like 512kb, 1mb or 1048576, got "${v}"` });
    return z.NEVER;
  }
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * unit);
};
const bytes = (def: string) => z.string().default(def).transform(parseSize);
/** A size whose absence means something of its own (null). */
const optionalBytes = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => (v === undefined ? null : parseSize(v, ctx)));

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((u) => protocols.includes(new URL(u).protocol), { message: `must start with ${protocols.join(' or ')}//` });

/** "10.0.0.0/8", "fd00::/8", or a single address (a /32 or /128). */
function isCidr(v: string): boolean {
  try {
    if (v.includes('/')) ipaddr.parseCIDR(v);
    else ipaddr.parse(v);
    return true;
  } catch {
    return false;
  }
}

/** A BullMQ repeat pattern: 5 fields (minute hour day month weekday) or 6 (with seconds first). */
const cron = (def: string) =>
  z
    .string()
    .default(def)
    .refine((v) => /^\s*\S+(\s+\S+){4,5}\s*$/.test(v), 'expected a cron pattern of 5 or 6 fields, e.g. "15 * * * *"');

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(3000, 1).refine((p) => p < 65536, 'must be below 65536'),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  // Express's "trust proxy": true/false, a hop count, or addresses/subnets/names (loopback, uniquelocal, …).
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .transform((v): boolean | number | string => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v.trim()) ? Number(v) : v)),
  HTTP_REQUEST_TIMEOUT_MS: int(3_600_000, 1000),
  HTTP_BODY_TIMEOUT_MS: int(60_000, 1000),
  HTTP_MAX_CONNECTIONS_PER_CLIENT: int(256, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATA_DIR: z.string().default('./.data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DATABASE_POOL_SIZE: int(10, 1),
  // One server (redis://host:6379/0), or a Redis Cluster: redis://h1:p1,h2:p2,h3:p3 (see src/queues/redisUrl.ts).
  REDIS_URL: z.string().optional(),
  /** Cluster nodes, host:port comma list; REDIS_URL then only brings the scheme and credentials. */
  REDIS_CLUSTER_NODES: z.string().optional(),
  // Default faultline, or {faultline} on a Redis Cluster (its keys must share a hash tag).
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w{}:-]+$/, 'letters, digits, _ - : { } only')
    .optional(),

  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ADMIN_ENABLED: bool(true),
  ADMIN_SESSION_IDLE_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(12),
  ADMIN_JS_TMP_DIR: z.string().optional(),
  JWT_ACCESS_TOKEN_LIFETIME_MINUTES: int(60, 1),
  JWT_REFRESH_TOKEN_LIFETIME_DAYS: int(7, 1),
  ARGON2_MEMORY_KIB: int(65536, 1024),
  ARGON2_TIME_COST: int(3, 1),
  MACHINE_TOKEN_LIFETIME_MINUTES: int(5, 1),
  MACHINE_CLIENT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  MACHINE_PROJECT: z.coerce.number().int().positive().optional(),
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim().replace(/\/$/, ''))
        .filter(Boolean),
    ),
  AUTH_RATE_LIMIT_WINDOW_SECONDS: int(900, 1),
  AUTH_RATE_LIMIT_PER_IP: int(100, 1),
  AUTH_RATE_LIMIT_PER_ACCOUNT: int(10, 1),
  AUTH_LOGIN_MAX_DELAY_MS: int(5000, 0).refine((v) => v <= 60_000, 'must be at most 60000'),
  INVITATION_TTL_DAYS: int(14, 1).refine((v) => v <= 365, 'must be at most 365'),
  DUMPS_DIR: z.string().optional(),
  ARCHIVE_DIR: z.string().optional(),
  DUMPS_MAX_BYTES: bytes('512mb'),
  DUMPS_ARCHIVE_AFTER_DAYS: int(30, 0),
  DUMPS_ARCHIVE_SCHEDULE: cron('15 * * * *'),
  DUMPS_RETENTION_SCHEDULE: cron('45 * * * *'),
  REFRESH_TOKEN_PRUNE_SCHEDULE: cron('30 3 * * *'),
  SPANS_RETENTION_SCHEDULE: cron('50 * * * *'),
  TRIAGE_PRUNE_SCHEDULE: cron('40 3 * * *'),
  ALERT_HISTORY_RETENTION_DAYS: int(90, 1),
  ALERT_PRUNE_SCHEDULE: cron('50 3 * * *'),
  AUDIT_LOG_RETENTION_DAYS: int(365, 0),
  AUDIT_LOG_PRUNE_SCHEDULE: cron('20 4 * * *'),
  PARTITIONS_SCHEDULE: cron('20 * * * *'),
  PARTITIONS_AHEAD_DAYS: int(7, 1).refine((v) => v <= 366, 'must be at most 366'),
  PARTITIONS_LOCK_TIMEOUT_MS: int(2000, 1).refine((v) => v <= 60_000, 'must be at most 60000'),
  RETENTION_DELETE_BATCH: int(5000, 1).refine((v) => v <= 100_000, 'must be at most 100000'),
  ARTIFACTS_DIR: z.string().optional(),
  SOURCEMAPS_MAX_BUNDLE_BYTES: bytes('100mb'),
  SOURCEMAPS_CACHE_BYTES: bytes('64mb'),
  ATTACHMENTS_MAX_BYTES: bytes('20mb'),
  ATTACHMENTS_PROJECT_QUOTA_BYTES: bytes('1gb'),

  JSON_BODY_LIMIT: bytes('1mb'),
  INGEST_MAX_EVENT_BYTES: bytes('1mb'),
  INGEST_MAX_REQUEST_BYTES: bytes('10mb'),
  INGEST_MAX_BATCH_EVENTS: int(1000, 1),
  LLM_LOG_MAX_TEXT_BYTES: bytes('1mb'),
  LLM_PRICES_CACHE_TTL_MS: int(30000, 0),
  // Data scrubbing in the workers (src/domain/scrubbing): off only to measure it (npm run bench) or to debug.
  SCRUBBING_ENABLED: bool(true),
  SCRUBBING_HASH_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SCRUBBING_RULES_CACHE_MS: int(5000, 0),
  INGEST_GROUP_WINDOW_MS: z.coerce.number().min(0).max(1000).default(5),
  INGEST_GROUP_MAX_IN_FLIGHT: int(2, 1),
  INGEST_GROUP_MAX_EVENTS: int(500, 1),
  INGEST_GROUP_MAX_BYTES: bytes('4mb'),
  INGEST_ENQUEUE_TIMEOUT_MS: int(5000, 50),
  INGEST_MAX_QUEUE_DEPTH: int(20000, 1),
  INGEST_MAX_REDIS_MEMORY: optionalBytes(),
  INGEST_REDIS_MEMORY_FRACTION: z.coerce.number().gt(0).max(1).default(0.8),
  INGEST_MAX_PENDING_BYTES: bytes('64mb'),
  API_KEY_CACHE_TTL_MS: int(5000, 0),
  OUTCOMES_FLUSH_INTERVAL_MS: int(10000, 100),
  OUTCOMES_MAX_PENDING_KEYS: int(20000, 100),
  OUTCOMES_RETENTION_DAYS: int(90, 1),
  INBOUND_FILTERS_CACHE_TTL_MS: int(10000, 0),
  OTLP_MAX_REQUEST_BYTES: bytes('16mb'),
  OTLP_MAX_ITEMS: int(10000, 1),
  OTLP_MAX_ATTRIBUTES: int(256, 1),
  OTLP_CORS_ORIGINS: z.string().default('*'),

  // Quotas (src/domain/quotas): per project per minute (per day for bytes); 0 = no limit.
  QUOTA_EVENTS_PER_MINUTE: int(0, 0),
  QUOTA_LOGS_PER_MINUTE: int(0, 0),
  QUOTA_LLM_LOGS_PER_MINUTE: int(0, 0),
  QUOTA_SPANS_PER_MINUTE: int(0, 0),
  QUOTA_DUMP_BYTES_PER_DAY: bytes('0'),
  QUOTA_SPIKE_PROTECTION: bool(true),
  QUOTA_SPIKE_MULTIPLIER: z.coerce.number().min(1).default(10),
  QUOTA_SPIKE_FLOOR_PER_MINUTE: int(30000, 1),
  QUOTA_CACHE_TTL_MS: int(5000, 0),
  QUOTA_REDIS_TIMEOUT_MS: int(250, 10),
  // Disk guard: uploads refused (507) while their volume has less free than either threshold.
  DISK_MIN_FREE_BYTES: bytes('1gb'),
  DISK_MIN_FREE_PERCENT: z.coerce.number().min(0).max(100).default(2),
  DISK_RETRY_AFTER_SECONDS: int(60, 1),

  LIST_TEXT_MAX_CHARS: int(4096, 64),
  LIST_JSON_MAX_BYTES: bytes('8kb'),
  LIST_PAGE_MAX_BYTES: bytes('4mb'),
  EXPORT_BATCH_BYTES: bytes('4mb'),

  LIVE_MAX_BUFFERED_BYTES: bytes('1mb'),
  LIVE_PING_INTERVAL_MS: int(30000, 100),

  WORKER_CONCURRENCY: int(8, 1),
  WORKER_STALLED_INTERVAL_MS: int(30000, 100),
  WORKER_LOCK_DURATION_MS: int(30000, 100),
  JOB_ATTEMPTS: int(12, 1),
  JOB_BACKOFF_MS: int(1000, 10),

  // Alerts (src/domain/alerts): where notifications may go, how they are sent, how often windows are evaluated.
  ALERT_ALLOW_PRIVATE_TARGETS: z
    .string()
    .default('false')
    .transform((v, ctx) => {
      const t = v.trim().toLowerCase();
      if (t === 'true' || t === 'false') return t === 'true';
      const cidrs = v
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const bad = cidrs.find((c) => !isCidr(c));
      if (bad !== undefined || !cidrs.length) {
        ctx.addIssue({
          code: 'custom',
          message: `expected true, false, or a comma list of CIDR ranges (10.0.0.0/8, fd00::/8), got "${bad ?? v}"`,
        });
        return z.NEVER;
      }
      return cidrs;
    }),
  ALERT_SECRETS_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  ALERT_EVALUATION_INTERVAL_MS: int(15000, 1000),
  ALERT_DELIVERY_ATTEMPTS: int(10, 1),
  ALERT_DELIVERY_BACKOFF_MS: int(2000, 10),
  ALERT_HTTP_CONNECT_TIMEOUT_MS: int(5000, 100),
  ALERT_HTTP_TIMEOUT_MS: int(10000, 100),
  ALERT_HTTP_MAX_RESPONSE_BYTES: bytes('64kb'),
  ALERT_RULE_CACHE_MS: int(5000, 0),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  SMTP_FROM: z.string().optional(),

  SHUTDOWN_TIMEOUT_MS: int(15000, 100),
  LOCAL_PG_PORT: int(54329, 1),
  LOCAL_REDIS_PORT: int(63799, 1),
  LOCAL_PG_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, 'a PostgreSQL size such as 64MB')
    .default('64MB'),
  LOCAL_PG_MAX_CONNECTIONS: int(50, 10),
  LOCAL_PG_ENGINE: z.enum(['embedded', 'system']).default('embedded'),
  LOCAL_REDIS_MAXMEMORY: bytes('512mb'),
  SUPERVISOR_MAX_CRASHES: int(5, 1),
  START_MODE: z.enum(['single', 'separate']).default('single'),
  SUPERVISOR_CRASH_WINDOW_SECONDS: int(60, 1),
  SUPERVISOR_RESTART_DELAY_MS: int(1000, 10),
  SUPERVISOR_RESTART_DELAY_MAX_MS: int(30000, 10),
});

export type Env = z.infer<typeof EnvSchema>;

// SMTP_FROM: a bare address, or a display name with the address in angle brackets.
const EMAIL = /^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;

/** The repository (or installed package) root: this file is src/config.ts or dist/config.js. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export class ConfigError extends Error {}

/** REDIS_CLUSTER_NODES folded into one URL (scheme and credentials from REDIS_URL), so one string names Redis everywhere. */
function redisUrlOf(url: string | undefined, nodes: string | undefined): string | undefined {
  if (nodes === undefined) return url;
  const m = url ? /^(rediss?:\/\/)(?:([^@/]*)@)?/.exec(url) : null;
  const list = nodes
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return `${m?.[1] ?? 'redis://'}${m?.[2] ? `${m[2]}@` : ''}${list.join(',')}${list.length === 1 ? '?cluster=true' : ''}`;
}

/** Dev-only secrets, generated once so restarts keep sessions and tokens valid. */
export interface DevSecrets {
  jwtSecret: string;
  postgresPassword: string;
  /** Signs admin session cookies. Added later than the others: older files get it on first read. */
  sessionSecret: string;
}

export function loadDevSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    if (saved.jwtSecret && saved.postgresPassword && saved.sessionSecret) return saved as DevSecrets;
    if (saved.jwtSecret && saved.postgresPassword) {
      // Keep the existing secrets (the local database's password cannot change); add the new one.
      const upgraded = { ...saved, sessionSecret: randomBytes(48).toString('base64url') } as DevSecrets;
      writeFileSync(file, JSON.stringify(upgraded, null, 2) + '\n', { mode: 0o600 });
      return upgraded;
    }
  }
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(48).toString('base64url'),
    postgresPassword: randomBytes(24).toString('base64url'),
    sessionSecret: randomBytes(48).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return secrets;
}

export function loadConfig(source: NodeJS.ProcessEnv) {
  // Empty strings mean "unset", as they do in most .env tooling.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);

  let jwtSecret = e.JWT_SECRET;
  if (!jwtSecret) {
    if (e.NODE_ENV === 'production')
      throw new ConfigError('Invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production (at least 32 characters)');
    jwtSecret = loadDevSecrets(dataDir).jwtSecret;
  }
  let sessionSecret = e.SESSION_SECRET;
  if (!sessionSecret) {
    if (e.NODE_ENV === 'production')
      throw new ConfigError('Invalid configuration:\n  SESSION_SECRET: required when NODE_ENV=production (at least 32 characters)');
    sessionSecret = loadDevSecrets(dataDir).sessionSecret;
  }
  if (Boolean(e.MACHINE_CLIENT_SECRET) !== Boolean(e.MACHINE_PROJECT)) {
    throw new ConfigError(
      'Invalid configuration:\n  MACHINE_CLIENT_SECRET: set together with MACHINE_PROJECT (the project its uploads go to), or neither',
    );
  }
  if (e.SUPERVISOR_RESTART_DELAY_MS > e.SUPERVISOR_RESTART_DELAY_MAX_MS) {
    throw new ConfigError('Invalid configuration:\n  SUPERVISOR_RESTART_DELAY_MS: must not exceed SUPERVISOR_RESTART_DELAY_MAX_MS');
  }
  if (e.LIST_PAGE_MAX_BYTES < 16 * 1024) throw new ConfigError('Invalid configuration:\n  LIST_PAGE_MAX_BYTES: must be at least 16kb');
  if (e.EXPORT_BATCH_BYTES < 64 * 1024) throw new ConfigError('Invalid configuration:\n  EXPORT_BATCH_BYTES: must be at least 64kb');
  if (e.SMTP_FROM !== undefined && !EMAIL.test(e.SMTP_FROM.trim())) {
    throw new ConfigError(
      'Invalid configuration:\n  SMTP_FROM: expected an address, e.g. alerts@example.com or "Faultline <alerts@example.com>"',
    );
  }
  let redisCluster = false;
  if (e.REDIS_URL !== undefined || e.REDIS_CLUSTER_NODES !== undefined) {
    try {
      redisCluster = parseRedisTarget(e.REDIS_URL, e.REDIS_CLUSTER_NODES).cluster;
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration:\n  ${e.REDIS_CLUSTER_NODES !== undefined ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL'}: ${(err as Error).message}`,
      );
    }
  }
  const queuePrefix = e.QUEUE_PREFIX ?? (redisCluster ? '{faultline}' : 'faultline');
  if (redisCluster && !hasHashTag(queuePrefix)) {
    throw new ConfigError(
      `Invalid configuration:\n  QUEUE_PREFIX: on a Redis Cluster it must start with a hash tag, e.g. {${queuePrefix.replace(/[{}]/g, '')}} (BullMQ's scripts need each queue's keys in one slot)`,
    );
  }
  if (e.INGEST_MAX_EVENT_BYTES > e.INGEST_MAX_REQUEST_BYTES) {
    throw new ConfigError('Invalid configuration:\n  INGEST_MAX_EVENT_BYTES: must not exceed INGEST_MAX_REQUEST_BYTES');
  }

  return Object.freeze({
    env: e.NODE_ENV,
    isProduction: e.NODE_ENV === 'production',
    http: {
      host: e.HOST,
      port: e.PORT,
      publicUrl: e.PUBLIC_URL,
      trustProxy: e.TRUST_PROXY,
      jsonBodyLimit: e.JSON_BODY_LIMIT,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      /** Every request but uploads (dumps, minidumps, envelopes) must have sent its whole body by then. */
      bodyTimeoutMs: e.HTTP_BODY_TIMEOUT_MS,
      /** Open connections one client address may hold (0: no limit); trusted proxies are exempt. */
      maxConnectionsPerClient: e.HTTP_MAX_CONNECTIONS_PER_CLIENT,
    },
    logLevel: e.LOG_LEVEL,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    /** REDIS_URL as given, or (REDIS_CLUSTER_NODES) a node list URL: what the connection factory takes. */
    redisUrl: redisUrlOf(e.REDIS_URL, e.REDIS_CLUSTER_NODES),
    redisCluster,
    queuePrefix,
    jwt: {
      secret: jwtSecret,
      accessTtlSeconds: e.JWT_ACCESS_TOKEN_LIFETIME_MINUTES * 60,
      refreshTtlSeconds: e.JWT_REFRESH_TOKEN_LIFETIME_DAYS * 86400,
      machineTtlSeconds: e.MACHINE_TOKEN_LIFETIME_MINUTES * 60,
    },
    /** The crash store's global machine secret: when both are set, it trades for an upload-only token to that project. */
    /**
     * The AdminJS back-office at /admin. Its components are bundled by `npm run build` into
     * bundleDir (production) or on first use (development), under a path without a dot
     * segment: Express 5 refuses to send files from dot folders such as AdminJS's `.adminjs`.
     */
    admin: {
      enabled: e.ADMIN_ENABLED,
      sessionSecret,
      sessionIdleSeconds: Math.round(e.ADMIN_SESSION_IDLE_HOURS * 3600),
      bundleDir: path.resolve(
        e.ADMIN_JS_TMP_DIR ?? (e.NODE_ENV === 'production' ? path.join(PACKAGE_ROOT, 'dist', 'adminjs') : path.join(dataDir, 'adminjs')),
      ),
    },
    machineClient: e.MACHINE_CLIENT_SECRET && e.MACHINE_PROJECT ? { secret: e.MACHINE_CLIENT_SECRET, projectId: e.MACHINE_PROJECT } : null,
    corsOrigins: e.CORS_ALLOWED_ORIGINS,
    argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST },
    authRateLimit: {
      windowSeconds: e.AUTH_RATE_LIMIT_WINDOW_SECONDS,
      perIp: e.AUTH_RATE_LIMIT_PER_IP,
      perAccount: e.AUTH_RATE_LIMIT_PER_ACCOUNT,
      maxDelayMs: e.AUTH_LOGIN_MAX_DELAY_MS,
    },
    /** Project invitations (POST /api/projects/{id}/members/) expire unanswered after this. */
    invitationTtlSeconds: e.INVITATION_TTL_DAYS * 86400,
    dumpsDir: path.resolve(e.DUMPS_DIR ?? path.join(dataDir, 'dumps')),
    /**
     * Crash dumps (the crash store). The archive defaults to a folder inside DUMPS_DIR so that a
     * deployment with one volume for dumps keeps archived ones too. archiveAfterDays 0: never.
     */
    dumps: {
      archiveDir: path.resolve(e.ARCHIVE_DIR ?? path.join(e.DUMPS_DIR ?? path.join(dataDir, 'dumps'), 'archive')),
      maxBytes: e.DUMPS_MAX_BYTES,
      archiveAfterDays: e.DUMPS_ARCHIVE_AFTER_DAYS,
      archiveSchedule: e.DUMPS_ARCHIVE_SCHEDULE.trim(),
      retentionSchedule: e.DUMPS_RETENTION_SCHEDULE.trim(),
    },
    /**
     * Triage (issue 12). Source map bundles (sentry-cli) and event attachments are bytes in
     * ARTIFACTS_DIR (default DATA_DIR/artifacts); parsed maps are cached per process up to cacheBytes.
     */
    artifacts: {
      dir: path.resolve(e.ARTIFACTS_DIR ?? path.join(dataDir, 'artifacts')),
      maxBundleBytes: e.SOURCEMAPS_MAX_BUNDLE_BYTES,
      mapCacheBytes: e.SOURCEMAPS_CACHE_BYTES,
      maxAttachmentBytes: e.ATTACHMENTS_MAX_BYTES,
      attachmentQuotaBytes: e.ATTACHMENTS_PROJECT_QUOTA_BYTES,
    },
    /** Repeatable housekeeping jobs (the housekeeping queue). */
    housekeeping: {
      refreshTokenPruneSchedule: e.REFRESH_TOKEN_PRUNE_SCHEDULE.trim(),
      /** Spans older than their project's retention_days are deleted on this schedule. */
      spansRetentionSchedule: e.SPANS_RETENTION_SCHEDULE.trim(),
      /** Session marks past 90 days, hourly issue counters past 35, chunks never assembled within a day. */
      triagePruneSchedule: e.TRIAGE_PRUNE_SCHEDULE.trim(),
      /** Alert history (firings, notifications, deliveries, digests, check-ins) older than alertHistoryDays goes. */
      alertPruneSchedule: e.ALERT_PRUNE_SCHEDULE.trim(),
      alertHistoryDays: e.ALERT_HISTORY_RETENTION_DAYS,
      /** Audit log entries older than auditLogRetentionDays are deleted on this schedule (0 days: kept forever). */
      auditLogPruneSchedule: e.AUDIT_LOG_PRUNE_SCHEDULE.trim(),
      auditLogRetentionDays: e.AUDIT_LOG_RETENTION_DAYS,
      /** Partitions created ahead, expired partitions dropped, shorter per-project retention deleted in batches (src/domain/partitions). */
      partitionsSchedule: e.PARTITIONS_SCHEDULE.trim(),
    },
    /** Time-partitioned tables (events, llm_logs, spans): see README "Partitioning and retention". */
    partitions: {
      aheadDays: e.PARTITIONS_AHEAD_DAYS,
      lockTimeoutMs: e.PARTITIONS_LOCK_TIMEOUT_MS,
      deleteBatch: e.RETENTION_DELETE_BATCH,
    },
    ingest: {
      maxEventBytes: e.INGEST_MAX_EVENT_BYTES,
      maxRequestBytes: e.INGEST_MAX_REQUEST_BYTES,
      maxBatchEvents: e.INGEST_MAX_BATCH_EVENTS,
      groupWindowMs: e.INGEST_GROUP_WINDOW_MS,
      groupMaxInFlight: e.INGEST_GROUP_MAX_IN_FLIGHT,
      groupMaxEvents: e.INGEST_GROUP_MAX_EVENTS,
      groupMaxBytes: e.INGEST_GROUP_MAX_BYTES,
      enqueueTimeoutMs: e.INGEST_ENQUEUE_TIMEOUT_MS,
      maxQueueDepth: e.INGEST_MAX_QUEUE_DEPTH,
      /**
       * Load shedding by bytes: Redis's used_memory past this refuses ingestion. Unset: a
       * fraction of Redis's own maxmemory, or 1 GB when it has none (see redisMemoryLimit).
       */
      maxRedisMemory: e.INGEST_MAX_REDIS_MEMORY,
      redisMemoryFraction: e.INGEST_REDIS_MEMORY_FRACTION,
      /** Bytes of accepted requests this web process may hold while their jobs are being queued. */
      maxPendingBytes: e.INGEST_MAX_PENDING_BYTES,
      apiKeyCacheTtlMs: e.API_KEY_CACHE_TTL_MS,
    },
    /** What was dropped and why (src/domain/outcomes): counted in memory, added to the outcomes table this often. */
    outcomes: {
      flushIntervalMs: e.OUTCOMES_FLUSH_INTERVAL_MS,
      /** Distinct (project, category, outcome, reason, hour) counters held between flushes; past it, new ones are only in /metrics. */
      maxPendingKeys: e.OUTCOMES_MAX_PENDING_KEYS,
      /** Outcome rows older than this are deleted by the housekeeping worker. */
      retentionDays: e.OUTCOMES_RETENTION_DAYS,
      /** How long a web process caches a project's inbound filters; a change made elsewhere applies within this. */
      inboundFiltersCacheTtlMs: e.INBOUND_FILTERS_CACHE_TTL_MS,
    },
    /**
     * OTLP/HTTP receivers (/v1/logs, /v1/traces): the largest body after decoding (also the
     * limit on the wire), log records or spans per request, attributes per record.
     */
    otlp: { maxRequestBytes: e.OTLP_MAX_REQUEST_BYTES, maxItems: e.OTLP_MAX_ITEMS, maxAttributes: e.OTLP_MAX_ATTRIBUTES },
    /**
     * Quotas and rate limits (src/domain/quotas): the instance defaults per project, 0 = no
     * limit; projects and keys override them (quota_overrides). Spike protection limits a
     * project's category to max(spikeFloor, spikeMultiplier × its trailing-hour per-minute average).
     */
    quotas: {
      defaults: {
        events_per_minute: e.QUOTA_EVENTS_PER_MINUTE,
        logs_per_minute: e.QUOTA_LOGS_PER_MINUTE,
        llm_logs_per_minute: e.QUOTA_LLM_LOGS_PER_MINUTE,
        spans_per_minute: e.QUOTA_SPANS_PER_MINUTE,
        dump_bytes_per_day: e.QUOTA_DUMP_BYTES_PER_DAY,
        spike_protection: e.QUOTA_SPIKE_PROTECTION,
      },
      spikeMultiplier: e.QUOTA_SPIKE_MULTIPLIER,
      spikeFloorPerMinute: e.QUOTA_SPIKE_FLOOR_PER_MINUTE,
      cacheTtlMs: e.QUOTA_CACHE_TTL_MS,
      /** A quota decision Redis does not answer within this lets the request through (it is protection, not bookkeeping). */
      redisTimeoutMs: e.QUOTA_REDIS_TIMEOUT_MS,
    },
    /** Dump uploads and Sentry attachments are refused (507) while their volume is this full. */
    diskGuard: {
      minFreeBytes: e.DISK_MIN_FREE_BYTES,
      minFreePercent: e.DISK_MIN_FREE_PERCENT,
      retryAfterSeconds: e.DISK_RETRY_AFTER_SECONDS,
    },
    /**
     * Browsers that may post OTLP (and Langfuse batches) cross-origin: `*` (the key in the
     * request is the credential, so any page holding one may send), or a comma-separated
     * list of origins answered by name.
     */
    otlpCorsOrigins:
      e.OTLP_CORS_ORIGINS.trim() === '*'
        ? ('*' as const)
        : e.OTLP_CORS_ORIGINS.split(',')
            .map((o) => o.trim().replace(/\/+$/, ''))
            .filter(Boolean),
    /** DataIdea's LLM logs: prompts and responses may be large; each may be up to this many bytes. */
    scrubbing: {
      enabled: e.SCRUBBING_ENABLED,
      // The key of the `hash` action; derived from JWT_SECRET when not set (changing either changes every hash).
      hashSecret: e.SCRUBBING_HASH_SECRET ?? createHmac('sha256', jwtSecret).update('faultline:scrubbing-hash').digest('base64url'),
      rulesCacheMs: e.SCRUBBING_RULES_CACHE_MS,
    },
    llmLogs: { maxTextBytes: e.LLM_LOG_MAX_TEXT_BYTES, pricesCacheTtlMs: e.LLM_PRICES_CACHE_TTL_MS },
    /**
     * Read API lists: big text fields are cut to textChars characters and big JSON fields
     * (over jsonBytes as JSON) left out, each marked `<field>_truncated`, so a page of
     * megabyte rows stays small; a page also stops early once its items pass pageBytes.
     * The full values are on the detail routes.
     */
    lists: { textChars: e.LIST_TEXT_MAX_CHARS, jsonBytes: e.LIST_JSON_MAX_BYTES, pageBytes: e.LIST_PAGE_MAX_BYTES },
    /** CSV exports read the database in batches of about this many bytes (whatever the row sizes). */
    exports: { batchBytes: e.EXPORT_BATCH_BYTES },
    /** WebSocket live tail: a client whose unsent backlog passes maxBufferedBytes is disconnected. */
    live: { maxBufferedBytes: e.LIVE_MAX_BUFFERED_BYTES, pingIntervalMs: e.LIVE_PING_INTERVAL_MS },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      stalledIntervalMs: e.WORKER_STALLED_INTERVAL_MS,
      lockDurationMs: e.WORKER_LOCK_DURATION_MS,
      attempts: e.JOB_ATTEMPTS,
      backoffMs: e.JOB_BACKOFF_MS,
    },
    /**
     * Alerts. allowPrivateTargets: true (any address), false (public addresses only), or the
     * CIDR ranges allowed besides public ones. secretsKey seals channel URLs and signing secrets
     * at rest (AES-256-GCM); by default it is derived from JWT_SECRET.
     */
    alerts: {
      allowPrivateTargets: e.ALERT_ALLOW_PRIVATE_TARGETS,
      secretsKey: e.ALERT_SECRETS_KEY ?? jwtSecret,
      evaluationIntervalMs: e.ALERT_EVALUATION_INTERVAL_MS,
      deliveryAttempts: e.ALERT_DELIVERY_ATTEMPTS,
      deliveryBackoffMs: e.ALERT_DELIVERY_BACKOFF_MS,
      connectTimeoutMs: e.ALERT_HTTP_CONNECT_TIMEOUT_MS,
      timeoutMs: e.ALERT_HTTP_TIMEOUT_MS,
      maxResponseBytes: e.ALERT_HTTP_MAX_RESPONSE_BYTES,
      ruleCacheMs: e.ALERT_RULE_CACHE_MS,
      smtpUrl: e.SMTP_URL,
      smtpFrom: e.SMTP_FROM?.trim() ?? 'Faultline <faultline@localhost>',
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    /** `npm start` only. redisMaxmemory 0: no limit (Redis's own default). */
    local: {
      pgSettings: { shared_buffers: e.LOCAL_PG_SHARED_BUFFERS, max_connections: e.LOCAL_PG_MAX_CONNECTIONS },
      pgPort: e.LOCAL_PG_PORT,
      redisPort: e.LOCAL_REDIS_PORT,
      pgEngine: e.LOCAL_PG_ENGINE,
      redisMaxmemory: e.LOCAL_REDIS_MAXMEMORY,
    },
    /** npm start: web and workers in one process (single) or as `npm run web` + `npm run worker` (separate). */
    startMode: e.START_MODE,
    /** `npm start` restarting a crashed web or worker process (src/devstack/restartPolicy.ts). */
    supervisor: {
      maxCrashes: e.SUPERVISOR_MAX_CRASHES,
      windowMs: e.SUPERVISOR_CRASH_WINDOW_SECONDS * 1000,
      initialDelayMs: e.SUPERVISOR_RESTART_DELAY_MS,
      maxDelayMs: e.SUPERVISOR_RESTART_DELAY_MAX_MS,
    },
  });
}

export type Config = ReturnType<typeof loadConfig>;

function loadDotEnv(): void {
  // A developer's ./.env, if any; real environment variables win over it.
  if (process.env.NODE_ENV === 'test' || !existsSync('.env')) return;
  process.loadEnvFile('.env');
}

function loadOrExit(): Config {
  try {
    loadDotEnv();
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for every variable and its default.\n`);
      process.exit(1);
    }
    throw err;
  }
}

export const config: Config = loadOrExit();

/** The environment for a child process we start: ours, plus what it must know. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}

/**
 * AdminJS reads its settings from the environment when it is first imported, not when
 * it is configured: hand them over here, just before that import.
 */
export function exportAdminJsEnv(c: Config): void {
  process.env.ADMIN_JS_TMP_DIR = c.admin.bundleDir;
  if (c.isProduction) process.env.ADMIN_JS_SKIP_BUNDLE = 'true'; // bundled at build time
}

/** Processes that need these stop with a clear message when started without them. */
export function requireUrl(name: 'DATABASE_URL' | 'REDIS_URL', value: string | undefined): string {
  if (value) return value;
  process.stderr.write(
    `Invalid configuration:\n  ${name}: required for this process. Run \`npm start\` for a local stack, or set ${name} (see .env.example).\n`,
  );
  process.exit(1);
}

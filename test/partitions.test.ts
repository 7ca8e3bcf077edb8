/**
 * Issue 15, time-partitioned storage: the migration with rows present (down and up again),
 * partitions created ahead and at the midnight UTC boundary, late and future rows in
 * DEFAULT and moved out of it, retention by dropping partitions and by batched deletes.
 *
 * Runs in a database of its own (created here on the test server): these tests create
 * partitions for other dates and drop partitions and rows, which other test files running
 * in parallel on the shared database must never see.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../src/db/data-source.ts';
import { createPartition, ensurePartitions, listPartitions } from '../src/domain/partitions/maintain.ts';
import { dropExpiredPartitions, expirePartitionedTables } from '../src/domain/partitions/retention.ts';
import { tableSpec } from '../src/domain/partitions/tables.ts';
import { maintainPartitionsProcessor } from '../src/workers/maintainPartitions.ts';
import { logger } from '../src/logger.ts';
import type { Job } from 'bullmq';

const MIGRATION = 'PartitionedTelemetry1766500000000';
const DAY = 86_400_000;
const dbName = `faultline_partitions_${randomBytes(4).toString('hex')}`;
const adminUrl = process.env.DATABASE_URL!;
const dbUrl = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

let ds: DataSource;

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${dbName}`);
  ds = createDataSource({ url: dbUrl, poolSize: 4 });
  await ds.initialize();
  await runMigrations(ds);
}, 120_000);

afterAll(async () => {
  await ds?.destroy();
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
});

let seq = 0;
async function project(retentionDays = 90): Promise<number> {
  seq++;
  const [u]: Array<{ id: number }> = await ds.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, [
    `p${seq}-${randomBytes(3).toString('hex')}@example.com`,
  ]);
  const [p]: Array<{ id: number }> = await ds.query(
    `INSERT INTO projects (name, slug, owner_id, retention_days) VALUES ('p', $1, $2, $3) RETURNING id`,
    [`p-${seq}-${randomBytes(3).toString('hex')}`, u.id, retentionDays],
  );
  return p.id;
}

/** Stores one log event the way the worker does (same ON CONFLICT target); answers whether it was new. */
async function insertEvent(projectId: number, eventId: string, ts: Date | string): Promise<boolean> {
  const rows: unknown[] = await ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", received_at, updated_at, level, message, origin)
     VALUES ($1, $2, 'log', $3, now(), now(), 'info', 'm', 'logs')
     ON CONFLICT (project_id, event_id, "timestamp") DO NOTHING RETURNING id`,
    [projectId, eventId, ts],
  );
  return rows.length === 1;
}

async function partitionOf(table: string, where: string, params: unknown[]): Promise<string[]> {
  const rows: Array<{ p: string }> = await ds.query(
    `SELECT DISTINCT tableoid::regclass::text AS p FROM ${table} WHERE ${where} ORDER BY 1`,
    params,
  );
  return rows.map((r) => r.p);
}

const isPartitioned = async (table: string) => {
  const [r]: Array<{ kind: string }> = await ds.query(
    `SELECT relkind AS kind FROM pg_class WHERE relname = $1 AND relnamespace = 'public'::regnamespace`,
    [table],
  );
  return r.kind === 'p';
};

describe('the migration, with rows present', () => {
  const fingerprint = async () =>
    (
      (await ds.query(`
      SELECT (SELECT count(*)::int FROM events) AS events,
             (SELECT md5(string_agg(id || ':' || project_id || ':' || event_id || ':' || extract(epoch FROM "timestamp") || ':' || message || ':' || level, ',' ORDER BY id)) FROM events) AS events_md5,
             (SELECT count(*)::int FROM llm_logs) AS llm,
             (SELECT md5(string_agg(id || ':' || event_id || ':' || extract(epoch FROM "timestamp") || ':' || query, ',' ORDER BY id)) FROM llm_logs) AS llm_md5,
             (SELECT count(*)::int FROM spans) AS spans,
             (SELECT md5(string_agg(id || ':' || trace_id || ':' || span_id || ':' || extract(epoch FROM start_time), ',' ORDER BY id)) FROM spans) AS spans_md5`)) as Array<
        Record<string, unknown>
      >
    )[0];

  it('keeps every row of several months (and outliers) going up, down and up again, and ids keep counting', async () => {
    // Back to just before this migration (later migrations, if any, are undone first and re-applied after).
    for (;;) {
      const done: Array<{ name: string }> = await ds.query(`SELECT name FROM typeorm_migrations WHERE name = $1`, [MIGRATION]);
      if (!done.length) break;
      await ds.undoLastMigration({ transaction: 'each' });
    }
    expect(await isPartitioned('events')).toBe(false);

    const p = await project();
    // 4 months back, a few days ahead, and outliers (a year old, a month in the future).
    await ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", received_at, updated_at, level, message, service, origin)
       SELECT $1, 'seed-' || g, CASE WHEN g % 5 = 0 THEN 'error' ELSE 'log' END,
              now() - (g % 120) * interval '1 day' + (g % 86400) * interval '1 second' - interval '12 hours', now(), now(),
              (ARRAY['debug','info','warning','error','critical'])[1 + g % 5], 'message ' || g, 'svc-' || (g % 7), 'logs'
         FROM generate_series(1, 6000) g`,
      [p],
    );
    await ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", received_at, updated_at, level, message, origin)
       VALUES ($1, 'old', 'log', now() - interval '400 days', now(), now(), 'info', 'old', 'logs'),
              ($1, 'future', 'log', now() + interval '30 days', now(), now(), 'info', 'future', 'logs')`,
      [p],
    );
    await ds.query(
      `INSERT INTO llm_logs (project_id, event_id, "timestamp", received_at, model, query, response)
       SELECT $1, 'llm-' || g, now() - (g % 120) * interval '1 day', now(), 'gpt', 'q' || g, 'r' FROM generate_series(1, 800) g`,
      [p],
    );
    await ds.query(
      `INSERT INTO spans (project_id, trace_id, span_id, name, kind, start_time, end_time, duration_ms, status_code, origin)
       SELECT $1, lpad(to_hex(g), 32, '0'), lpad(to_hex(g), 16, '0'), 'span', 'server', now() - (g % 120) * interval '1 day',
              now() - (g % 120) * interval '1 day', 1, 'ok', 'otlp' FROM generate_series(1, 800) g`,
      [p],
    );
    const before = await fingerprint();
    expect(before.events).toBe(6002);

    await runMigrations(ds);
    expect(await isPartitioned('events')).toBe(true);
    expect(await isPartitioned('llm_logs')).toBe(true);
    expect(await isPartitioned('spans')).toBe(true);
    expect(await fingerprint()).toEqual(before);

    // Partitions cover the data back to the longest retention (90 days); the outliers are in DEFAULT.
    const parts = await listPartitions(ds, 'events');
    expect(parts.length).toBeGreaterThanOrEqual(91);
    expect(await partitionOf('events', `event_id IN ('old', 'future')`, [])).toEqual(['events_default']);
    const [inDefault]: Array<{ n: number }> = await ds.query(`SELECT count(*)::int AS n FROM events_default`);
    const [older]: Array<{ n: number }> = await ds.query(
      `SELECT count(*)::int AS n FROM events WHERE "timestamp" < $1 OR "timestamp" >= $2`,
      [parts[0].from, parts.at(-1)!.to],
    );
    expect(inDefault.n).toBe(older.n);
    // Every row in a partition sits in the one named after its day.
    const [misplaced]: Array<{ n: number }> = await ds.query(
      `SELECT count(*)::int AS n FROM events WHERE tableoid::regclass::text <> 'events_default'
          AND tableoid::regclass::text <> 'events_p' || to_char("timestamp" AT TIME ZONE 'UTC', 'YYYYMMDD')`,
    );
    expect(misplaced.n).toBe(0);

    // Keys: the id sequence continues; the idempotency key (now with the time) still refuses a duplicate.
    const [maxId]: Array<{ id: string }> = await ds.query(`SELECT max(id)::text AS id FROM events`);
    // As text: the seeded times have microseconds, which a JS Date would drop (a job carries the exact string).
    const [seedRow]: Array<{ event_id: string; timestamp: string }> = await ds.query(
      `SELECT event_id, "timestamp"::text AS "timestamp" FROM events WHERE event_id = 'seed-1'`,
    );
    expect(await insertEvent(p, 'seed-1', seedRow.timestamp)).toBe(false);
    expect(await insertEvent(p, 'after-migration', new Date())).toBe(true);
    const [fresh]: Array<{ id: string }> = await ds.query(`SELECT id::text FROM events WHERE event_id = 'after-migration'`);
    expect(BigInt(fresh.id)).toBeGreaterThan(BigInt(maxId.id));

    // Down keeps every row too (the one added since included), then up again.
    const withNew = await fingerprint();
    await ds.undoLastMigration({ transaction: 'each' });
    expect(await isPartitioned('events')).toBe(false);
    expect(await fingerprint()).toEqual(withNew);
    const [identity]: Array<{ is_identity: string }> = await ds.query(
      `SELECT is_identity FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'id'`,
    );
    expect(identity.is_identity).toBe('YES');
    await runMigrations(ds);
    expect(await isPartitioned('events')).toBe(true);
    expect(await fingerprint()).toEqual(withNew);
  }, 120_000);
});

describe('partitions ahead', () => {
  it('creates the partitions from now to N days ahead, once, with the day boundary at midnight UTC', async () => {
    const now = new Date('2031-03-10T23:59:59.999Z');
    const first = await ensurePartitions(ds, { now, aheadDays: 2, tables: [tableSpec('events'), tableSpec('llm_logs')] });
    expect(first.created).toEqual(['events_p20310310', 'events_p20310311', 'events_p20310312', 'llm_logs_p20310310']);
    // Idempotent: a second run (or another worker) creates nothing.
    expect((await ensurePartitions(ds, { now, aheadDays: 2, tables: [tableSpec('events'), tableSpec('llm_logs')] })).created).toEqual([]);

    const p = await project();
    await insertEvent(p, 'last-ms', '2031-03-10T23:59:59.999Z');
    await insertEvent(p, 'midnight', '2031-03-11T00:00:00.000Z');
    // The 11th in its own offset, still the 10th in UTC.
    await insertEvent(p, 'offset', '2031-03-11T01:30:00+02:00');
    expect(await partitionOf('events', `project_id = $1 AND event_id = 'last-ms'`, [p])).toEqual(['events_p20310310']);
    expect(await partitionOf('events', `project_id = $1 AND event_id = 'midnight'`, [p])).toEqual(['events_p20310311']);
    expect(await partitionOf('events', `project_id = $1 AND event_id = 'offset'`, [p])).toEqual(['events_p20310310']);
    // LLM logs: weeks from Monday 00:00 UTC (2031-03-10 is a Monday).
    const llm = (await listPartitions(ds, 'llm_logs')).find((x) => x.name === 'llm_logs_p20310310')!;
    expect([llm.from.toISOString(), llm.to.toISOString()]).toEqual(['2031-03-10T00:00:00.000Z', '2031-03-17T00:00:00.000Z']);
  });

  it('the maintain-partitions job creates them for every table', async () => {
    const run = maintainPartitionsProcessor(ds, logger);
    const r = (await run({ id: 't', data: { now: '2032-06-15T12:00:00.000Z', ahead_days: 1 } } as unknown as Job)) as { created: string[] };
    expect(r.created).toEqual(
      expect.arrayContaining(['events_p20320615', 'events_p20320616', 'llm_logs_p20320614', 'spans_p20320615', 'spans_p20320616']),
    );
  });
});

describe('the DEFAULT partition', () => {
  it('takes late and future timestamps, and its rows move out when their partition is created', async () => {
    const p = await project();
    const day = '2033-05-20';
    for (let i = 0; i < 5; i++) expect(await insertEvent(p, `late-${i}`, `${day}T0${i}:00:00Z`)).toBe(true);
    expect(await insertEvent(p, 'other-day', '2033-05-21T10:00:00Z')).toBe(true);
    expect(await partitionOf('events', `project_id = $1`, [p])).toEqual(['events_default']);

    // PostgreSQL refuses a plain CREATE … PARTITION OF here (DEFAULT holds rows of the range).
    await expect(
      ds.query(`CREATE TABLE events_p20330520_plain PARTITION OF events FOR VALUES FROM ('${day}T00:00:00Z') TO ('2033-05-21T00:00:00Z')`),
    ).rejects.toThrow(/default partition/);

    const r = await ensurePartitions(ds, { now: new Date(`${day}T12:00:00Z`), aheadDays: 0, tables: [tableSpec('events')] });
    expect(r).toEqual({ created: ['events_p20330520'], moved: 5 });
    expect(await partitionOf('events', `project_id = $1 AND event_id LIKE 'late-%'`, [p])).toEqual(['events_p20330520']);
    expect(await partitionOf('events', `project_id = $1 AND event_id = 'other-day'`, [p])).toEqual(['events_default']);
    // Still stored once, and the key still refuses the re-delivered row in its new partition.
    const [n]: Array<{ n: number }> = await ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1`, [p]);
    expect(n.n).toBe(6);
    expect(await insertEvent(p, 'late-0', `${day}T00:00:00Z`)).toBe(false);
    // The moved partition got the parent's indexes.
    const [idx]: Array<{ n: number }> = await ds.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'events_p20330520'`);
    const [parentIdx]: Array<{ n: number }> = await ds.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'events'`);
    expect(idx.n).toBe(parentIdx.n);
    // Creating it again is a no-op.
    expect(await createPartition(ds, tableSpec('events'), Date.parse(`${day}T00:00:00Z`), Date.parse('2033-05-21T00:00:00Z'))).toBeNull();
  });
});

describe('retention', () => {
  const now = new Date('2034-09-30T12:00:00Z');
  const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);

  it('drops whole partitions past the longest retention, deletes shorter project retention in batches, and expires DEFAULT', async () => {
    // Partitions for 2034-06-01 … 2034-09-30 (daily).
    await ensurePartitions(ds, { now: new Date('2034-06-01T00:00:00Z'), aheadDays: 121, tables: [tableSpec('events')] });
    await ds.query(`UPDATE projects SET retention_days = 60`); // earlier tests' projects: at the instance max below
    const long = await project(60); // the instance max
    const short = await project(7);
    for (const d of [70, 61, 59, 20, 8, 6, 1]) {
      await insertEvent(long, `long-${d}`, daysAgo(d));
      await insertEvent(short, `short-${d}`, daysAgo(d));
    }
    // A late row far older than any retention, in DEFAULT.
    await insertEvent(long, 'ancient', '2020-01-01T00:00:00Z');
    expect(await partitionOf('events', `event_id = 'ancient'`, [])).toEqual(['events_default']);

    const r = await expirePartitionedTables(ds, { now, batchSize: 2, tables: [tableSpec('events')] });
    // Cutoff 60 days back is 2034-08-01T12:00Z: every partition ending by then is dropped whole.
    const names = (await listPartitions(ds, 'events')).map((x) => x.name);
    expect(r.dropped).toContain('events_p20340731');
    expect(r.dropped).not.toContain('events_p20340801');
    expect(names).not.toContain('events_p20340731');
    expect(names).toContain('events_p20340801');
    expect(r.busy).toEqual([]);

    const left: Array<{ event_id: string }> = await ds.query(`SELECT event_id FROM events WHERE project_id = ANY($1)`, [[long, short]]);
    // long (60 days): 70 and 61 went with their partitions, 59 and younger stay; ancient went from DEFAULT.
    // short (7 days): everything older than 7 days deleted in batches of 2.
    expect(left.map((x) => x.event_id).sort()).toEqual(['long-1', 'long-20', 'long-59', 'long-6', 'long-8', 'short-1', 'short-6']);
    expect(r.deleted.events).toBeGreaterThanOrEqual(1 + 3); // ancient + short's 59, 20, 8 (its 70, 61 went by drop)
    // Idempotent.
    const again = await expirePartitionedTables(ds, { now, batchSize: 2, tables: [tableSpec('events')] });
    expect(again.dropped).toEqual([]);
    expect(again.deleted.events).toBe(0);
  });

  it('a drop that cannot get its lock in time gives up (ingestion never queues behind it) and succeeds on the next run', async () => {
    await ensurePartitions(ds, { now: new Date('2035-01-10T00:00:00Z'), aheadDays: 0, tables: [tableSpec('spans')] });
    const reader = new pg.Client({ connectionString: dbUrl });
    await reader.connect();
    try {
      // A long read holds the table (ACCESS SHARE) until it commits.
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM spans');
      const blocked = await dropExpiredPartitions(ds, tableSpec('spans'), new Date('2035-02-01T00:00:00Z'), 100);
      expect(blocked.busy).toContain('spans_p20350110');
      expect(blocked.dropped).not.toContain('spans_p20350110');
      // Meanwhile writes go on.
      await ds.query(
        `INSERT INTO spans (project_id, trace_id, span_id, name, kind, start_time, end_time, duration_ms, status_code, origin)
         VALUES ($1, $2, 'aaaaaaaaaaaaaaaa', 's', 'server', '2035-01-10T01:00:00Z', '2035-01-10T01:00:01Z', 1000, 'ok', 'otlp')`,
        [await project(), randomBytes(16).toString('hex')],
      );
      await reader.query('COMMIT');
      const next = await dropExpiredPartitions(ds, tableSpec('spans'), new Date('2035-02-01T00:00:00Z'), 100);
      expect(next.dropped).toContain('spans_p20350110');
      expect((await listPartitions(ds, 'spans')).map((x) => x.name)).not.toContain('spans_p20350110');
    } finally {
      await reader.end();
    }
  });
});

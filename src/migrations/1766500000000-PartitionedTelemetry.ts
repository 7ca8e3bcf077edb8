import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The big tables become PostgreSQL declarative partitions, RANGE on their time column, so
 * retention drops whole partitions instead of deleting rows (src/domain/partitions/).
 *
 * Per table, in the migration's one transaction (all or nothing: a failure leaves the
 * unpartitioned table as it was):
 *   rename the old table (and its indexes, `<name>_old`) → create the partitioned parent
 *   LIKE it (columns, defaults, CHECKs) → partitions covering the old rows' range (clipped
 *   to the longest retention behind and a few periods ahead) + a DEFAULT partition for the
 *   rest → move the rows in batches of id ranges (INSERT…SELECT, routed by PostgreSQL) →
 *   only then the primary key, unique keys, indexes and foreign keys (built once over the
 *   loaded rows, much faster than maintaining them row by row) → drop the old table.
 *
 * Keys change: a unique key on a partitioned table must contain the partition column, so
 * PRIMARY KEY (id) becomes (id, <time>) and UNIQUE (project_id, event_id) becomes
 * (project_id, event_id, <time>). The id sequence keeps counting from where it was.
 *
 * This file is self-contained on purpose (the maintenance code in src/domain/partitions may
 * change later; a migration must not). Tables are held ACCESS EXCLUSIVE while it runs:
 * ingestion keeps answering 202 into Redis and the workers catch up afterwards (README,
 * "Partitioning and retention", has the time per million rows).
 */
interface Spec {
  table: string;
  column: string;
  interval: 'day' | 'week';
}

export const PARTITIONED_TABLES: ReadonlyArray<Spec> = [
  { table: 'events', column: 'timestamp', interval: 'day' },
  { table: 'llm_logs', column: 'timestamp', interval: 'week' },
  { table: 'spans', column: 'start_time', interval: 'day' },
];

const DAY = 86_400_000;
const BATCH = 100_000;
/** Periods created ahead by the migration; the housekeeping worker keeps PARTITIONS_AHEAD_DAYS ahead afterwards. */
const AHEAD = 2;
/** Partitions behind "now" are created only back to the longest retention: older rows (outliers) go to DEFAULT and are expired from there. */
const FALLBACK_RETENTION_DAYS = 90;

const q1 = (name: string) => `"${name.replace(/"/g, '""')}"`;
const oldName = (name: string) => `${name.slice(0, 59)}_old`;

function periodStart(t: number, interval: Spec['interval']): number {
  const d = new Date(t);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return interval === 'day' ? day : day - ((d.getUTCDay() + 6) % 7) * DAY; // ISO weeks start on Monday
}
const step = (interval: Spec['interval']) => (interval === 'day' ? DAY : 7 * DAY);
const partitionName = (table: string, start: number) => `${table}_p${new Date(start).toISOString().slice(0, 10).replace(/-/g, '')}`;

async function one<T>(q: QueryRunner, sql: string, params: unknown[] = []): Promise<T> {
  const rows = (await q.query(sql, params)) as T[];
  return rows[0];
}

export async function partitionTable(q: QueryRunner, s: Spec, now = Date.now()): Promise<void> {
  const t = s.table;
  const old = `${t}_unpartitioned`;
  const col = q1(s.column);
  await q.query(`LOCK TABLE ${q1(t)} IN ACCESS EXCLUSIVE MODE`);

  // What the table has, read before renaming (definitions then name the table as it is now).
  const indexes: Array<{ name: string; def: string; is_constraint: boolean }> = await q.query(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def, EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) AS is_constraint
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass ORDER BY i.relname`,
    [t],
  );
  const constraints: Array<{ name: string; type: 'p' | 'u' | 'f'; def: string }> = await q.query(
    `SELECT conname AS name, contype AS type, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype = 'f', conname`,
    [t],
  );
  const seq = await one<{ name: string | null }>(q, `SELECT pg_get_serial_sequence($1, 'id') AS name`, [t]);
  const last = await one<{ n: string | null }>(
    q,
    `SELECT GREATEST((SELECT max(id) FROM ${q1(t)}), ${seq.name ? `(SELECT CASE WHEN is_called THEN last_value END FROM ${seq.name})` : 'NULL'})::text AS n`,
  );
  const range = await one<{ lo: Date | null; hi: Date | null; min_id: string | null; max_id: string | null }>(
    q,
    `SELECT min(${col}) AS lo, max(${col}) AS hi, min(id)::text AS min_id, max(id)::text AS max_id FROM ${q1(t)}`,
  );
  const retention = await one<{ days: number | null }>(q, `SELECT max(retention_days) AS days FROM projects`);

  // Out of the way: the old table and every index name (index names are schema-wide).
  await q.query(`ALTER TABLE ${q1(t)} RENAME TO ${q1(old)}`);
  for (const i of indexes) await q.query(`ALTER INDEX ${q1(i.name)} RENAME TO ${q1(oldName(i.name))}`);
  if (seq.name) await q.query(`ALTER TABLE ${q1(old)} ALTER COLUMN id DROP IDENTITY`);
  else await q.query(`ALTER TABLE ${q1(old)} ALTER COLUMN id DROP DEFAULT`);

  // The parent: same columns, defaults and CHECKs; a plain sequence (portable across PG versions, unlike identity on partitioned tables).
  await q.query(`CREATE SEQUENCE ${q1(`${t}_id_seq`)} AS bigint`);
  if (last.n) await q.query(`SELECT setval($1, $2::bigint)`, [`${t}_id_seq`, last.n]);
  await q.query(
    `CREATE TABLE ${q1(t)} (LIKE ${q1(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE (${col})`,
  );
  await q.query(`ALTER TABLE ${q1(t)} ALTER COLUMN id SET DEFAULT nextval('${t}_id_seq'::regclass)`);
  await q.query(`ALTER SEQUENCE ${q1(`${t}_id_seq`)} OWNED BY ${q1(t)}.id`);

  // Partitions: from the oldest row's period (but not before the longest retention) to AHEAD periods after now.
  const keepFrom = periodStart(now - (retention.days ?? FALLBACK_RETENTION_DAYS) * DAY, s.interval);
  const first = range.lo ? Math.max(periodStart(range.lo.getTime(), s.interval), keepFrom) : periodStart(now, s.interval);
  const stop = periodStart(now, s.interval) + (AHEAD + 1) * step(s.interval);
  for (let start = Math.min(first, periodStart(now, s.interval)); start < stop; start += step(s.interval)) {
    const end = start + step(s.interval);
    await q.query(
      `CREATE TABLE ${q1(partitionName(t, start))} PARTITION OF ${q1(t)} FOR VALUES FROM ('${new Date(start).toISOString()}') TO ('${new Date(end).toISOString()}')`,
    );
  }
  await q.query(`CREATE TABLE ${q1(`${t}_default`)} PARTITION OF ${q1(t)} DEFAULT`);

  // The rows, in id-range batches: each statement bounded, routed to its partition by PostgreSQL.
  if (range.min_id !== null && range.max_id !== null) {
    for (let from = BigInt(range.min_id); from <= BigInt(range.max_id); from += BigInt(BATCH)) {
      await q.query(`INSERT INTO ${q1(t)} SELECT * FROM ${q1(old)} WHERE id >= $1::bigint AND id < $2::bigint`, [
        String(from),
        String(from + BigInt(BATCH)),
      ]);
    }
  }

  // Keys, indexes and foreign keys, built once over the loaded rows.
  for (const c of constraints.filter((x) => x.type !== 'f')) {
    const m = /^(PRIMARY KEY|UNIQUE) \((.+)\)$/.exec(c.def);
    if (!m) throw new Error(`${t}: cannot add the partition key to constraint ${c.name} (${c.def})`);
    const cols = m[2].split(',').map((x) => x.trim());
    if (!cols.includes(col) && !cols.includes(s.column)) cols.push(col);
    await q.query(`ALTER TABLE ${q1(t)} ADD CONSTRAINT ${q1(c.name)} ${m[1]} (${cols.join(', ')})`);
  }
  for (const i of indexes.filter((x) => !x.is_constraint)) await q.query(i.def);
  for (const c of constraints.filter((x) => x.type === 'f')) await q.query(`ALTER TABLE ${q1(t)} ADD CONSTRAINT ${q1(c.name)} ${c.def}`);

  await q.query(`DROP TABLE ${q1(old)}`);
  await q.query(`ANALYZE ${q1(t)}`);
}

/**
 * Back to one plain table. A unique key that held only with the time in it may now have
 * duplicates (same event_id, different timestamps): the row with the lowest id is kept.
 */
export async function unpartitionTable(q: QueryRunner, s: Spec): Promise<void> {
  const t = s.table;
  const part = `${t}_partitioned`;
  const col = q1(s.column);
  await q.query(`LOCK TABLE ${q1(t)} IN ACCESS EXCLUSIVE MODE`);
  const indexes: Array<{ name: string; def: string; is_constraint: boolean }> = await q.query(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def, EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) AS is_constraint
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass ORDER BY i.relname`,
    [t],
  );
  const constraints: Array<{ name: string; type: 'p' | 'u' | 'f'; def: string }> = await q.query(
    `SELECT conname AS name, contype AS type, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f') AND conparentid = 0 ORDER BY contype = 'f', conname`,
    [t],
  );
  const last = await one<{ n: string | null }>(
    q,
    `SELECT GREATEST((SELECT max(id) FROM ${q1(t)}), (SELECT CASE WHEN is_called THEN last_value END FROM ${q1(`${t}_id_seq`)}))::text AS n`,
  );
  const ids = await one<{ min_id: string | null; max_id: string | null }>(
    q,
    `SELECT min(id)::text AS min_id, max(id)::text AS max_id FROM ${q1(t)}`,
  );

  await q.query(`ALTER TABLE ${q1(t)} RENAME TO ${q1(part)}`);
  for (const i of indexes) await q.query(`ALTER INDEX ${q1(i.name)} RENAME TO ${q1(oldName(i.name))}`);
  await q.query(
    `CREATE TABLE ${q1(t)} (LIKE ${q1(part)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)`,
  );
  await q.query(`ALTER TABLE ${q1(t)} ALTER COLUMN id DROP DEFAULT`);
  if (ids.min_id !== null && ids.max_id !== null) {
    for (let from = BigInt(ids.min_id); from <= BigInt(ids.max_id); from += BigInt(BATCH)) {
      await q.query(`INSERT INTO ${q1(t)} SELECT * FROM ${q1(part)} WHERE id >= $1::bigint AND id < $2::bigint`, [
        String(from),
        String(from + BigInt(BATCH)),
      ]);
    }
  }
  for (const c of constraints.filter((x) => x.type !== 'f')) {
    const m = /^(PRIMARY KEY|UNIQUE) \((.+)\)$/.exec(c.def);
    if (!m) throw new Error(`${t}: cannot read constraint ${c.name} (${c.def})`);
    const cols = m[2]
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== col && x !== s.column);
    if (m[1] === 'UNIQUE') {
      const key = cols.join(', ');
      await q.query(
        `DELETE FROM ${q1(t)} a USING ${q1(t)} b WHERE (${cols.map((c2) => `a.${c2} = b.${c2}`).join(' AND ')}) AND a.id > b.id`,
      );
      await q.query(`ALTER TABLE ${q1(t)} ADD CONSTRAINT ${q1(c.name)} UNIQUE (${key})`);
    } else {
      await q.query(`ALTER TABLE ${q1(t)} ADD CONSTRAINT ${q1(c.name)} PRIMARY KEY (${cols.join(', ')})`);
    }
  }
  for (const i of indexes.filter((x) => !x.is_constraint))
    await q.query(i.def.replace(/^CREATE INDEX (\S+) ON ONLY /, 'CREATE INDEX $1 ON '));
  for (const c of constraints.filter((x) => x.type === 'f')) await q.query(`ALTER TABLE ${q1(t)} ADD CONSTRAINT ${q1(c.name)} ${c.def}`);
  await q.query(`DROP TABLE ${q1(part)}`); // its partitions and its sequence with it
  await q.query(
    `ALTER TABLE ${q1(t)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH ${last.n ? BigInt(last.n) + 1n : 1n})`,
  );
  await q.query(`ANALYZE ${q1(t)}`);
}

export class PartitionedTelemetry1766500000000 implements MigrationInterface {
  name = 'PartitionedTelemetry1766500000000';

  async up(q: QueryRunner): Promise<void> {
    for (const s of PARTITIONED_TABLES) await partitionTable(q, s);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const s of [...PARTITIONED_TABLES].reverse()) await unpartitionTable(q, s);
  }
}

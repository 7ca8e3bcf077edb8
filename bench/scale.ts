/**
 * The scale part of `npm run bench:logs` (issue 15): end-to-end log ingestion (posted →
 * stored) into an empty events table and again with N rows in it; the time to drop one
 * day's partition; and ingestion while a retention run (batched deletes of a shorter
 * project retention, then a partition drop) goes on. Targets: stored/s with N rows
 * ≥ 0.9 × empty; drop < 1 s; ingest p99 during retention ≤ 2 × without.
 */
import pg from 'pg';
import { createBenchProject, runLoad, type BenchProject } from './lib.ts';

export interface IngestFigure {
  phase: string;
  logs: number;
  storedPerS: number;
  httpP99Ms: number;
  storeP99Ms: number;
  seconds: number;
}

const BATCH = 100;

function logsBody(n: number, tag: string): string {
  const now = Date.now();
  return JSON.stringify(
    Array.from({ length: n }, (_, i) => ({
      message: `bench ${tag} log ${i}: request served in ${(i * 7) % 900} ms`,
      level: ['info', 'warning', 'error', 'debug'][i % 4],
      user_id: `u${i % 50}`,
      timestamp: new Date(now - (i % 1000)).toISOString(),
      metadata: { path: `/api/items/${i % 97}`, status: 200 },
    })),
  );
}

async function count(db: pg.Client, projectId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND kind = 'log'`, [
    projectId,
  ]);
  return rows[0].n;
}

/**
 * Posts `requests` batches of 100 logs (seed 3's native batch) over 10 connections and waits
 * until they are all stored. storeP99Ms: per-second samples of received_at → stored lag are
 * not available from outside, so it is the p99 of (updated_at − received_at) over the rows.
 */
export async function ingestPhase(
  base: string,
  db: pg.Client,
  phase: string,
  requests: number,
  during?: () => Promise<void>,
): Promise<IngestFigure> {
  const p: BenchProject = await createBenchProject(base);
  const bodies = Array.from({ length: 20 }, (_, i) => logsBody(BATCH, `${phase}-${i}`));
  const target = requests * BATCH;
  const t0 = performance.now();
  const side = during?.();
  const load = await runLoad({
    url: `${base}/api/event-log/`,
    body: bodies[0],
    bodies,
    headers: { authorization: `Bearer ${p.apiKey}` },
    connections: 10,
    requests,
  });
  const deadline = Date.now() + 300_000;
  let stored = await count(db, p.projectId);
  while (stored < target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    stored = await count(db, p.projectId);
  }
  const seconds = (performance.now() - t0) / 1000;
  await side;
  const { rows } = await db.query<{ p99: number }>(
    `SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM (e.updated_at - e.received_at)) * 1000) AS p99 FROM events e WHERE project_id = $1`,
    [p.projectId],
  );
  if (load.non2xx || load.errors) throw new Error(`${phase}: ${load.non2xx} non-2xx, ${load.errors} errors`);
  return { phase, logs: stored, storedPerS: stored / seconds, httpP99Ms: load.p99Ms, storeP99Ms: Number(rows[0].p99), seconds };
}

/** Partitions for the demo data's 30 days back (created ahead in production; a fresh bench database has only today's). */
export async function partitionsForDemo(databaseUrl: string): Promise<void> {
  const { createDataSource } = await import('../src/db/data-source.ts');
  const { ensurePartitions } = await import('../src/domain/partitions/maintain.ts');
  const ds = createDataSource({ url: databaseUrl, poolSize: 2, applicationName: 'faultline-bench' });
  await ds.initialize();
  try {
    await ensurePartitions(ds, { now: new Date(Date.now() - 31 * 86_400_000), aheadDays: 40 });
  } finally {
    await ds.destroy();
  }
}

/** A retention run: the oldest day's partition dropped (timed), then the demo project's retention shortened to 25 days (batched deletes). */
export async function retentionRun(
  databaseUrl: string,
  demoProjectId: number,
): Promise<{ deleted: number; dropSeconds: number; dropped: string[]; droppedRows: number }> {
  const { createDataSource } = await import('../src/db/data-source.ts');
  const { expireTable, dropExpiredPartitions } = await import('../src/domain/partitions/retention.ts');
  const { listPartitions } = await import('../src/domain/partitions/maintain.ts');
  const { tableSpec } = await import('../src/domain/partitions/tables.ts');
  const ds = createDataSource({ url: databaseUrl, poolSize: 2, applicationName: 'faultline-bench' });
  await ds.initialize();
  try {
    // The oldest day that holds rows (the demo data spans 30 days; partitions may start earlier).
    let oldest = (await listPartitions(ds, 'events'))[0];
    let n = 0;
    for (const part of await listPartitions(ds, 'events')) {
      [{ n }] = (await ds.query(`SELECT count(*)::int AS n FROM "${part.name}"`)) as Array<{ n: number }>;
      oldest = part;
      if (n > 0) break;
    }
    const t0 = performance.now();
    const d = await dropExpiredPartitions(ds, tableSpec('events'), oldest.to, 2000);
    const dropSeconds = (performance.now() - t0) / 1000;
    await ds.query(`UPDATE projects SET retention_days = 25 WHERE id = $1`, [demoProjectId]);
    const r = await expireTable(ds, tableSpec('events'), { batchSize: 5000 });
    await ds.query(`UPDATE projects SET retention_days = 90 WHERE id = $1`, [demoProjectId]);
    return { deleted: r.deleted.events ?? 0, dropSeconds, dropped: d.dropped, droppedRows: n };
  } finally {
    await ds.destroy();
  }
}

export async function dbClient(databaseUrl: string): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  return db;
}

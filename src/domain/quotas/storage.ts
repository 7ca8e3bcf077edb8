import type { RedisClient } from '../../queues/connection.ts';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import { registry } from '../../metrics.ts';
import { volumeOf } from './disk.ts';

/** The folders whose volumes the disk guard watches, by name (metrics label, dashboard row). */
export type Volumes = Record<string, string>;

export interface StorageFacts {
  databaseBytes: number | null;
  volumes: Array<{ volume: string; path: string; freeBytes: number; totalBytes: number }>;
}

/** PostgreSQL's database size and each volume's free space; what cannot be read is left out. */
export async function storageFacts(ds: DataSource, volumes: Volumes): Promise<StorageFacts> {
  const [db, ...vols] = await Promise.all([
    ds
      .query(`SELECT pg_database_size(current_database())::bigint AS n`)
      .then((r: Array<{ n: string }>) => Number(r[0].n))
      .catch(() => null),
    ...Object.entries(volumes).map(([volume, path]) =>
      volumeOf(path)
        .then((v) => ({ volume, path, freeBytes: v.freeBytes, totalBytes: v.totalBytes }))
        .catch(() => null),
    ),
  ]);
  return { databaseBytes: db as number | null, volumes: vols.filter((v): v is NonNullable<typeof v> => v !== null) };
}

/** Gauges read at scrape time (one set per process, even when an app is built twice in tests). */
export function registerStorageMetrics(ds: DataSource, volumes: Volumes): void {
  const names = ['faultline_database_size_bytes', 'faultline_volume_free_bytes', 'faultline_volume_total_bytes'];
  for (const name of names) registry.removeSingleMetric(name);
  let latest: Promise<StorageFacts> | null = null;
  const facts = () => (latest ??= storageFacts(ds, volumes).finally(() => setTimeout(() => (latest = null), 100)));
  new Gauge({
    name: names[0],
    help: 'PostgreSQL database size in bytes (pg_database_size)',
    registers: [registry],
    async collect() {
      const f = await facts();
      if (f.databaseBytes !== null) this.set(f.databaseBytes);
    },
  });
  new Gauge({
    name: names[1],
    help: 'Free bytes on the volume of each data folder (statfs; the disk guard refuses uploads below its threshold)',
    labelNames: ['volume'] as const,
    registers: [registry],
    async collect() {
      for (const v of (await facts()).volumes) this.set({ volume: v.volume }, v.freeBytes);
    },
  });
  new Gauge({
    name: names[2],
    help: 'Size in bytes of the volume of each data folder',
    labelNames: ['volume'] as const,
    registers: [registry],
    async collect() {
      for (const v of (await facts()).volumes) this.set({ volume: v.volume }, v.totalBytes);
    },
  });
}

/** Today's (UTC) refused counts from every web process (written by Quotas), for the dashboard. */
export async function refusedToday(redis: RedisClient, prefix: string, now = Date.now()) {
  const raw = await redis.hgetall(`${prefix}:quota:refused:${new Date(now).toISOString().slice(0, 10)}`);
  return Object.entries(raw)
    .map(([field, n]) => {
      const [project, category, reason] = field.split(':');
      return { project_id: Number(project), category, reason, count: Number(n) };
    })
    .sort((a, b) => b.count - a.count);
}

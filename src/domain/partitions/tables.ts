/**
 * The time-partitioned tables (migration 1766500000000-PartitionedTelemetry) and their
 * partition size, chosen by volume: events (errors and logs) and spans arrive by the
 * million a day on a busy instance, so a day each; LLM logs are fewer but larger, a week.
 * Fixed here, not in config: partitions of another size would overlap the existing ones.
 */
export type Interval = 'day' | 'week';

export interface PartitionedTable {
  table: 'events' | 'llm_logs' | 'spans';
  /** The RANGE partition key. */
  column: string;
  interval: Interval;
}

export const PARTITIONED_TABLES: ReadonlyArray<PartitionedTable> = [
  { table: 'events', column: 'timestamp', interval: 'day' },
  { table: 'llm_logs', column: 'timestamp', interval: 'week' },
  { table: 'spans', column: 'start_time', interval: 'day' },
];

export const DAY_MS = 86_400_000;

export function tableSpec(table: PartitionedTable['table']): PartitionedTable {
  return PARTITIONED_TABLES.find((t) => t.table === table)!;
}

/** Start of the UTC period holding `t`: midnight UTC, or Monday midnight UTC for weeks. */
export function periodStart(t: number, interval: Interval): number {
  const d = new Date(t);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return interval === 'day' ? day : day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
}

export const periodLength = (interval: Interval) => (interval === 'day' ? DAY_MS : 7 * DAY_MS);

/** events_p20261201: the table and the first day of its range. */
export const partitionName = (table: string, start: number) => `${table}_p${new Date(start).toISOString().slice(0, 10).replace(/-/g, '')}`;

export const defaultPartition = (table: string) => `${table}_default`;

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

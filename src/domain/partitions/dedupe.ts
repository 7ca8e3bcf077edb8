/**
 * Exactly-once across partitions. A unique key on a partitioned table must hold the time, so
 * `ON CONFLICT (project_id, event_id, timestamp)` alone would let one event in twice when a
 * client re-sends it with another time (a retry of an event without a client timestamp is
 * stamped again at the edge; an OTLP span re-sent with a new start time). So a row is
 * inserted only if no row with the same ids exists within DEDUPE_WINDOW of its time (a probe
 * of the unique index in the few partitions around it, pruned at run time), and ON CONFLICT
 * still settles two workers racing on the very same row.
 */
export const DEDUPE_WINDOW = "interval '1 day'";

/**
 * `SELECT v.* FROM (VALUES …) v(cols) WHERE NOT EXISTS (same ids within the window)`, the
 * source of an INSERT. Every placeholder is cast: an INSERT … SELECT gives them no type.
 */
export function valuesWithoutDuplicates(o: {
  table: string;
  columns: ReadonlyArray<string>;
  types: Readonly<Record<string, string>>;
  rows: number;
  keys: ReadonlyArray<string>;
  time: string;
  /** Extra per-row values after the columns (e.g. events' issue_id). */
  width?: number;
}): string {
  const width = o.width ?? o.columns.length;
  const tuples: string[] = [];
  for (let r = 0; r < o.rows; r++) {
    const base = r * width;
    tuples.push(`(${o.columns.map((c, i) => `$${base + i + 1}::${o.types[c]}`).join(', ')})`);
  }
  const cols = o.columns.map((c) => `"${c}"`).join(', ');
  const same = o.keys.map((k) => `d."${k}" = v."${k}"`).join(' AND ');
  return `SELECT v.* FROM (VALUES ${tuples.join(', ')}) AS v(${cols})
    WHERE NOT EXISTS (SELECT 1 FROM ${o.table} d WHERE ${same}
                        AND d."${o.time}" >= v."${o.time}" - ${DEDUPE_WINDOW} AND d."${o.time}" <= v."${o.time}" + ${DEDUPE_WINDOW})`;
}

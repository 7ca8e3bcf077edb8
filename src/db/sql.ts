import type pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The node-postgres pool under TypeORM. The worker's write path talks to it directly:
 * TypeORM's query and transaction wrappers cost several times the CPU of the statement
 * itself on this hardware (measured: ~250 µs vs ~110 µs per query), and a store job is
 * nothing but two statements.
 */
export type Sql = Pick<pg.Pool, 'query'>;

export function sqlOf(ds: DataSource): Sql {
  const pool = (ds.driver as unknown as { master?: pg.Pool }).master;
  if (!pool) throw new Error('DataSource is not initialized (no pg pool)');
  return pool;
}

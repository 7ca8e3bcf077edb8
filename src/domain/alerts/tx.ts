import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { sqlOf } from '../../db/sql.ts';

export type Q = Pick<pg.PoolClient, 'query'>;

/** A transaction on one pooled connection, straight on node-postgres (plain rows, real rowCounts). */
export async function inTransaction<T>(ds: DataSource, fn: (q: Q) => Promise<T>): Promise<T> {
  const pool = sqlOf(ds) as pg.Pool;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

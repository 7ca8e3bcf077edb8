import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { entities } from '../entities/index.ts';
import { migrations } from '../migrations/index.ts';

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
}

export function createDataSource({ url, poolSize = 10, applicationName = 'faultline' }: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, application_name: applicationName, connectionTimeoutMillis: 5000 },
  });
}

// Any 64-bit constant works; it only has to be the same for every process running migrations.
const MIGRATION_LOCK = 7_123_456_789;

/**
 * Runs pending migrations under a PostgreSQL advisory lock, so several processes
 * starting at once (or `npm run migrate` racing `npm start`) apply each migration once.
 */
export async function runMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

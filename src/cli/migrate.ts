import { config, requireUrl } from '../config.ts';
import { createDataSource, runMigrations } from '../db/data-source.ts';

/** `npm run migrate`: applies pending migrations (safe to run from several processes at once). */
const ds = createDataSource({ url: requireUrl('DATABASE_URL', config.databaseUrl), poolSize: 2, applicationName: 'faultline-migrate' });
await ds.initialize();
try {
  const applied = await runMigrations(ds);
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
} finally {
  await ds.destroy();
}

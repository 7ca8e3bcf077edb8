import { parseArgs } from 'node:util';
import { config, requireUrl } from '../config.ts';
import { upsertSuperuser } from '../domain/accounts/users.ts';
import { createDataSource } from '../db/data-source.ts';
import { localStackUrls } from './localStack.ts';

/**
 * `npm run createsuperuser -- --email E --password P`: a staff user (created, or an
 * existing account promoted and given this password). Without DATABASE_URL it uses
 * the database `npm start` runs, which must be up.
 */
const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' } } });
if (!values.email || !values.password) {
  console.error('usage: npm run createsuperuser -- --email you@example.com --password "a long passphrase"');
  process.exit(2);
}
if (values.password.length < 8) {
  console.error('The password must be at least 8 characters.');
  process.exit(2);
}

const url = config.databaseUrl ?? localStackUrls()?.databaseUrl ?? requireUrl('DATABASE_URL', undefined);
const ds = createDataSource({ url, poolSize: 2, applicationName: 'faultline-cli' });
await ds.initialize();
try {
  const { user, created } = await upsertSuperuser(ds, values.email, values.password);
  console.log(`${created ? 'Created' : 'Updated'} staff user ${user.email} (id ${user.id}).`);
} finally {
  await ds.destroy();
}

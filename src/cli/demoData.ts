import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { config, requireUrl } from '../config.ts';
import { createDataSource } from '../db/data-source.ts';
import { generateDemoData } from '../domain/logs/demo.ts';
import { localStackUrls } from './localStack.ts';

/**
 * `npm run demo-data -- [--logs 500] [--users 3] [--clear] [--password P] [--the crash store and the logs dashboard]`:
 * the logs dashboard's demo data. Without DATABASE_URL it uses the database `npm start` runs,
 * which must be up. Refuses to run in production.
 */
const USAGE = 'usage: npm run demo-data -- [--logs N=500] [--users 1..5 (default 3)] [--clear] [--password P] [--seed N]';
if (config.isProduction) {
  console.error('Demo data generation is disabled in production (NODE_ENV=production).');
  process.exit(1);
}
const { values } = parseArgs({
  options: {
    logs: { type: 'string', default: '500' },
    users: { type: 'string', default: '3' },
    clear: { type: 'boolean', default: false },
    password: { type: 'string' },
    seed: { type: 'string', default: '42' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const logs = Number(values.logs);
const users = Number(values.users);
const seed = Number(values.seed);
if (!Number.isInteger(logs) || logs < 0 || !Number.isInteger(users) || users < 1 || users > 5 || !Number.isInteger(seed)) {
  console.error(USAGE);
  process.exit(2);
}
if (values.password !== undefined && values.password.length < 8) {
  console.error('The password must be at least 8 characters.');
  process.exit(2);
}
const password = values.password ?? `demo-${randomBytes(6).toString('base64url')}`;

const url = config.databaseUrl ?? localStackUrls()?.databaseUrl ?? requireUrl('DATABASE_URL', undefined);
const ds = createDataSource({ url, poolSize: 2, applicationName: 'faultline-demo-data' });
await ds.initialize();
try {
  const started = Date.now();
  const result = await generateDemoData(ds, { logs, users, clear: values.clear, password, seed }, (msg) => console.log(msg));
  console.log(
    `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.logs} logs, ${result.errors} error events, ${result.llmLogs} LLM calls in project ${result.projectId} (logs-dashboard-demo).`,
  );
  for (const u of result.users)
    console.log(
      `  ${u.email.padEnd(28)} ${u.role.padEnd(7)} ${u.created ? `password: ${password}` : '(existing account, password unchanged)'}`,
    );
} finally {
  await ds.destroy();
}

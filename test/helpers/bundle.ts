/**
 * A minified bundle with source maps, built by the real esbuild; the real sentry-cli;
 * and the real @sentry/node in a child process reporting an error thrown in the bundle.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestUser } from './factories.ts';

export const run = promisify(execFile);
const BIN = (name: string) => path.join(process.cwd(), 'node_modules/.bin', name);
export const SENTRY_NODE = path.join(process.cwd(), 'node_modules/@sentry/node/build/esm/index.js');

export const CART = `// The shop's cart: prices of the items in it.
export function priceOf(item) {
  if (!item.price) {
    throw new TypeError('no price for ' + item.name);
  }
  return item.price;
}

export function checkout(items) {
  return items.map((i) => priceOf(i));
}
`;
const MAIN = `import { checkout } from './cart.js';

export function run(label) {
  return checkout([{ name: 'apple', price: 1 }, { name: label }]);
}
`;

/** <dir>/<name>/src → dist/bundle.mjs (+ .map), minified, as a build step would. */
export async function buildBundle(dir: string, name: string, cart = CART): Promise<string> {
  const root = path.join(dir, name);
  mkdirSync(path.join(root, 'src'), { recursive: true });
  writeFileSync(path.join(root, 'src/cart.js'), cart);
  writeFileSync(path.join(root, 'src/main.js'), MAIN);
  await run(
    BIN('esbuild'),
    ['src/main.js', '--bundle', '--minify', '--sourcemap', '--format=esm', '--platform=node', '--outfile=dist/bundle.mjs'],
    { cwd: root },
  );
  return root;
}

export function sentryCli(base: string, u: TestUser, token: string, args: string[], cwd: string) {
  return run(BIN('sentry-cli'), args, {
    cwd,
    timeout: 60_000,
    env: {
      ...process.env,
      SENTRY_URL: base,
      SENTRY_AUTH_TOKEN: token,
      SENTRY_ORG: 'faultline',
      SENTRY_PROJECT: u.personal.slug,
      SENTRY_LOG_LEVEL: 'warn',
    },
  });
}

/** The app, run by a non-bundled entry that sets up @sentry/node, calls into the bundle and reports the error. */
export async function crashInBundle(base: string, u: TestUser, root: string, release: string, setup = '') {
  const entry = path.join(root, 'entry.mjs');
  const dsn = `http://${u.apiKey}@127.0.0.1:${new URL(base).port}/${u.personal.id}`;
  writeFileSync(
    entry,
    `import * as Sentry from ${JSON.stringify(SENTRY_NODE)};
Sentry.init({ dsn: ${JSON.stringify(dsn)}, release: ${JSON.stringify(release)} });
${setup}
const { run } = await import('./dist/bundle.mjs');
try { run('pear'); } catch (err) { Sentry.captureException(err); }
await Sentry.close(5000);
`,
  );
  await run(process.execPath, [entry], { timeout: 30_000 });
}

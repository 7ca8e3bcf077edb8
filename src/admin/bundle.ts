/**
 * `npm run build` (after tsc): bundles the admin's React components for production, so
 * the web process starts with ADMIN_JS_SKIP_BUNDLE and serves dist/adminjs/bundle.js.
 * It also copies the .jsx sources next to the compiled code (AdminJS checks that every
 * registered component file exists, in production too). Reads no configuration: it
 * runs at build time, where production secrets are not set.
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = path.join(root, 'dist', 'adminjs');
const started = Date.now();

cpSync(path.join(root, 'src', 'admin', 'components'), path.join(root, 'dist', 'admin', 'components'), { recursive: true });
rmSync(out, { recursive: true, force: true });

// AdminJS reads both when it is imported: a minified production bundle, written under `out`.
process.env.NODE_ENV = 'production';
process.env.ADMIN_JS_TMP_DIR = out;
const { default: AdminJS } = await import('adminjs');
const { componentLoader } = await import('./components.ts');
await new AdminJS({ componentLoader, rootPath: '/admin' }).initialize();

if (!existsSync(path.join(out, 'bundle.js'))) throw new Error(`AdminJS wrote no ${path.join(out, 'bundle.js')}`);
process.stdout.write(
  `admin components bundled into ${path.relative(root, out)}/bundle.js in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);

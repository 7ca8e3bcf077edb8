#!/usr/bin/env node
/**
 * Runs one of Faultline's entry points: `node bin/run.mjs web|worker|cli/migrate|…`.
 * NODE_ENV=production runs the compiled build in dist/ (`npm run build` first);
 * otherwise the TypeScript source runs directly through SWC, so a fresh clone needs
 * no build step.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [entry] = process.argv.splice(2, 1);
if (!entry || !/^[\w/-]+$/.test(entry)) {
  console.error('usage: node bin/run.mjs <entry> [args…]   e.g. web, worker, cli/migrate');
  process.exit(2);
}
if (existsSync('.env') && typeof process.loadEnvFile === 'function') process.loadEnvFile('.env');

const root = new URL('../', import.meta.url);
if (process.env.NODE_ENV === 'production') {
  const built = new URL(`dist/${entry}.js`, root);
  if (!existsSync(fileURLToPath(built))) {
    console.error(`${fileURLToPath(built)} is missing: run \`npm run build\` first (NODE_ENV=production runs the build).`);
    process.exit(1);
  }
  await import(built.href);
} else {
  await import('@swc-node/register/esm-register');
  await import(pathToFileURL(fileURLToPath(new URL(`src/${entry}.ts`, root))).href);
}

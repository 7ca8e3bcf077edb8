#!/usr/bin/env node
/**
 * Runs one of Faultline's entry points: `node bin/run.mjs web|worker|cli/migrate|…`.
 * NODE_ENV=production runs the compiled build in dist/ (`npm run build` first);
 * otherwise the TypeScript source is compiled into .build/ by bin/compile.mjs (SWC, only
 * what changed, in a short-lived child process) and that runs — so a fresh clone needs
 * no build step, and no process carries a compiler. Children of `npm start` skip the
 * compile step: their supervisor just ran it (FAULTLINE_COMPILED=1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
  if (process.env.FAULTLINE_COMPILED !== '1') {
    const compile = spawnSync(process.execPath, [fileURLToPath(new URL('compile.mjs', import.meta.url))], { stdio: 'inherit' });
    if (compile.status !== 0) process.exit(compile.status ?? 1);
  }
  process.setSourceMapsEnabled(true); // stack traces point into src/*.ts
  await import(new URL(`.build/${entry}.js`, root).href);
}

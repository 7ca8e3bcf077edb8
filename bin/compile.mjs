#!/usr/bin/env node
/**
 * Development builds for `npm start` and the other `npm run` entry points: compiles
 * src/**\/*.ts to .build/ with SWC (the same options as tests and .swcrc), only what
 * changed since the last run, and copies the other files (the admin's .jsx components).
 * Processes then run plain JavaScript: loading a TypeScript compiler into every process
 * cost ~130 MB each and seconds at every start. Production uses `npm run build` (tsc,
 * type-checked, into dist/) instead. Runs as its own short-lived process, so the
 * compiler's memory is given back before anything long-lived starts.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const srcDir = path.join(root, 'src');
export const buildDir = path.join(root, '.build');

const OPTIONS = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
    rewriteRelativeImportExtensions: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else yield full;
  }
}

const outputOf = (source) => {
  const rel = path.relative(srcDir, source);
  return path.join(buildDir, rel.endsWith('.ts') && !rel.endsWith('.d.ts') ? rel.slice(0, -3) + '.js' : rel);
};

/** Written next to its final name, then renamed: a process starting meanwhile never reads half a file. */
function writeAtomic(target, write) {
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  write(tmp);
  renameSync(tmp, target);
}

let swc;
const wanted = new Set();
let compiled = 0;
for (const source of files(srcDir)) {
  if (source.endsWith('.d.ts')) continue;
  const target = outputOf(source);
  wanted.add(target);
  if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) continue;
  if (source.endsWith('.ts')) {
    swc ??= (await import('@swc/core')).default;
    const { code } = await swc.transformFile(source, { ...OPTIONS, filename: source, swcrc: false });
    writeAtomic(target, (tmp) => writeFileSync(tmp, code));
  } else {
    writeAtomic(target, (tmp) => copyFileSync(source, tmp));
  }
  compiled++;
}
// Outputs whose source is gone (a file deleted or renamed) would still be importable: remove them.
let removed = 0;
if (existsSync(buildDir)) {
  for (const output of files(buildDir)) {
    // Another compile running at the same moment may be writing a .tmp file: not ours to remove.
    if (!wanted.has(output) && !output.endsWith('.tmp')) {
      rmSync(output, { force: true });
      removed++;
    }
  }
}
if (process.env.FAULTLINE_COMPILE_VERBOSE) process.stderr.write(`[faultline] compiled ${compiled} file(s), removed ${removed}\n`);

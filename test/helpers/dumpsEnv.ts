/**
 * Import FIRST in a dumps test file: gives the file its own DUMPS_DIR and ARCHIVE_DIR
 * (test files run in parallel, and some assert that a folder holds nothing) and a
 * small DUMPS_MAX_BYTES, before anything reads the configuration.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = mkdtempSync(path.join(process.env.TEST_TMP_DIR ?? tmpdir(), 'dumps-'));
process.env.DUMPS_DIR = path.join(root, 'dumps');
process.env.ARCHIVE_DIR = path.join(root, 'archive');
process.env.DUMPS_MAX_BYTES ??= '16mb';

export const DUMPS_DIR = process.env.DUMPS_DIR;
export const ARCHIVE_DIR = process.env.ARCHIVE_DIR;
export const MAX_BYTES = 16 * 1024 * 1024;

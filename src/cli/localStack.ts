import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { config } from '../config.ts';

/** Written by `npm start` while it runs, so other commands (createsuperuser, bench) find its services. */
const file = () => path.join(config.dataDir, 'stack.json');

export interface StackUrls {
  databaseUrl: string;
  redisUrl: string;
  webUrl: string;
  pid: number;
}

export function writeStackUrls(urls: StackUrls): void {
  writeFileSync(file(), JSON.stringify(urls, null, 2) + '\n', { mode: 0o600 });
}

export function clearStackUrls(): void {
  rmSync(file(), { force: true });
}

/** The running local stack's URLs, or null when none is running. */
export function localStackUrls(): StackUrls | null {
  if (!existsSync(file())) return null;
  const urls = JSON.parse(readFileSync(file(), 'utf8')) as StackUrls;
  try {
    process.kill(urls.pid, 0);
    return urls;
  } catch {
    return null; // stale: that launcher is gone
  }
}

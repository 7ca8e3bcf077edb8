import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__FAULTLINE_TEST__;
  if (!state) return;
  await Promise.all([state.redis?.stop(), state.pg?.stop()]);
  rmSync(state.dir, { recursive: true, force: true });
}

/**
 * Responses stay bounded whatever the rows hold (hardening). Here: a failing list query
 * never leaves a promise without a handler.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import vm from 'node:vm';

const { eventually, startWeb } = await import('./helpers/stack.ts');
const { listLogs } = await import('../src/domain/logs/query.ts');
const { listLlmLogs } = await import('../src/domain/logs/llmQuery.ts');
const { listEvents } = await import('../src/domain/events/query.ts');
const { listDumps } = await import('../src/domain/dumps/query.ts');
const { parseOrdering } = await import('../src/domain/logs/filters.ts');

let stack: Awaited<ReturnType<typeof startWeb>>;

beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack.web.close();
});

describe('a failing page query never leaves the count promise unhandled', () => {
  // Jest gives each test file a copy of `process`: listen on the real one, where Node reports rejections.
  const realProcess = vm.runInThisContext('process') as NodeJS.Process;

  it('listLogs, listLlmLogs, listEvents and listDumps reject, and no unhandledRejection fires', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    realProcess.on('unhandledRejection', onUnhandled);
    try {
      const ds = stack.web.ds;
      const page = { mode: 'page' as const, page: 1, pageSize: 10 };
      // PostgreSQL refuses a NUL byte in a text parameter: the count and the page both fail.
      const nul = 'a\u0000b';
      await expect(listLogs(ds, { all: true }, { search: nul }, { order: parseOrdering(undefined), page })).rejects.toThrow(/0x00/);
      await expect(listLogs(ds, { all: true }, { search: nul }, { order: parseOrdering('-severity'), page, withExtra: true })).rejects.toThrow(/0x00/);
      await expect(listLlmLogs(ds, { all: true }, { search: nul }, page)).rejects.toThrow(/0x00/);
      await expect(listEvents(ds, { projectId: 1, search: nul }, page)).rejects.toThrow(/0x00/);
      await expect(listDumps(ds, { all: true }, { label: nul }, { mode: 'page', page: 1, pageSize: 10 })).rejects.toThrow(/0x00/);
      // Every query has come back (the pool is idle), and Node has had its turn to report.
      const pool = (ds.driver as unknown as { master: { totalCount: number; idleCount: number } }).master;
      await eventually(async () => pool.idleCount === pool.totalCount);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      realProcess.off('unhandledRejection', onUnhandled);
    }
  });
});

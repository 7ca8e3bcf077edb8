/**
 * Issue 13, dump.received: a rule fires once a crash dump is processed (its crash reason
 * and module known); with new_crash_only, only for the first dump of each crash reason +
 * main module. Real uploads through the API, the real worker, a real receiver.
 */
import './helpers/dumpsEnv.ts';
import './helpers/alertsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { drained } from './helpers/jobs.ts';
import { buildMinidump } from './helpers/minidump.ts';
import { startReceiver } from './helpers/receiver.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  receiver = await startReceiver();
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  await receiver.close();
});

const api = (u: TestUser) => ({ post: (p: string, b?: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b) });
const av = (modules: string[]) =>
  buildMinidump({ exception: { threadId: 1, code: 0xc0000005, address: 0x10n, params: [1n, 0x10n] }, modules });
const segv = () =>
  buildMinidump({
    platform: 0x8201,
    arch: 12,
    exception: { threadId: 7, code: 11, flags: 1, address: 0x10n },
    modules: ['/usr/bin/crashy'],
  });

describe('dump.received', () => {
  it('fires per processed dump, or with new_crash_only once per crash reason and module', async () => {
    const u = await createUser(stack.web.ds);
    const ch = await api(u).post(`/api/projects/${u.personal.id}/alert-channels/`, {
      name: 'dumps',
      type: 'webhook',
      url: `${receiver.url}/dumps`,
    });
    const every = await api(u).post(`/api/projects/${u.personal.id}/alert-rules/`, {
      name: 'Every dump',
      trigger: 'dump.received',
      channels: [ch.body.id],
    });
    const fresh = await api(u).post(`/api/projects/${u.personal.id}/alert-rules/`, {
      name: 'New crashes',
      trigger: 'dump.received',
      params: { new_crash_only: true },
      channels: [ch.body.id],
    });
    expect([every.status, fresh.status]).toEqual([201, 201]);

    const upload = async (body: Buffer, name: string) => {
      const res = await stack.http
        .post('/api/dumps/')
        .set('Authorization', `Bearer ${u.access}`)
        .field('label', 'v1.0')
        .attach('file', body, name);
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const first = await upload(av(['C:\\app\\Shop.exe']), 'a.dmp');
    await upload(av(['C:\\app\\Shop.exe']), 'b.dmp'); // the same crash again
    await upload(segv(), 'c.dmp'); // another crash
    await eventually(async () => receiver.requests.filter((r) => r.url === '/dumps').length >= 5);
    await drained(stack.web.queues, ['dumps', 'alerts', 'notifications']);
    const messages = receiver.requests
      .filter((r) => r.url === '/dumps')
      .map((r) => r.json as { rule: { name: string }; title: string; url: string; firing: { dump: { id: string } } });
    const byRule = (name: string) => messages.filter((m) => m.rule.name === name);
    expect(byRule('Every dump')).toHaveLength(3);
    expect(
      byRule('New crashes')
        .map((m) => m.title)
        .sort(),
    ).toEqual(['Crash dump: EXCEPTION_ACCESS_VIOLATION_WRITE in Shop.exe', 'Crash dump: SIGSEGV / SEGV_MAPERR in crashy']);
    const firstMessage = byRule('New crashes').find((m) => m.title.includes('Shop.exe'))!;
    expect(firstMessage.firing.dump.id).toBe(first);
    expect(firstMessage.url).toBe(`http://faultline.test/admin/resources/CrashDump/records/${first}/show`);
  });
});

import './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import { isMinidump, MinidumpError, parseMinidump } from '../src/domain/dumps/minidump.ts';
import { createUser } from './helpers/factories.ts';
import { buildMinidump, type MinidumpSpec } from './helpers/minidump.ts';
import { eventually, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { sha256 } from './helpers/dumps.ts';

const readerOf = (buf: Buffer) => async (offset: number, length: number) => buf.subarray(offset, offset + length);
const parse = (buf: Buffer) => parseMinidump(readerOf(buf), buf.length);
/** Where a stream of `type` starts, from the dump's directory. */
function streamRva(buf: Buffer, type: number): number {
  for (let i = 0; i < buf.readUInt32LE(8); i++) if (buf.readUInt32LE(32 + i * 12) === type) return buf.readUInt32LE(32 + i * 12 + 8);
  throw new Error(`no stream ${type}`);
}

const windowsAv: MinidumpSpec = {
  platform: 2,
  arch: 9,
  cpus: 16,
  version: [10, 0, 19045],
  csd: 'Service Pack 1',
  threads: 12,
  exception: { threadId: 4242, code: 0xc0000005, address: 0x7ff6_1234_5678n, params: [1n, 0xdeadbeefn] },
  modules: ['C:\\Program Files\\Acme\\acme.exe', 'C:\\Windows\\System32\\ntdll.dll', 'C:\\Windows\\System32\\kernel32.dll'],
};

describe('minidump parsing (pure)', () => {
  it('reads OS, CPU, exception and modules from a Windows access violation', async () => {
    const facts = await parse(buildMinidump(windowsAv));
    expect(facts).toMatchObject({
      os: 'Windows',
      os_version: '10.0.19045',
      os_build: 'Service Pack 1',
      cpu_arch: 'amd64',
      cpu_count: 16,
      thread_count: 12,
      crashed_thread: 4242,
      exception_code: '0xc0000005',
      exception_name: 'EXCEPTION_ACCESS_VIOLATION',
      crash_reason: 'EXCEPTION_ACCESS_VIOLATION_WRITE',
      // For an access violation the data address (parameter 1) is the crash address.
      crash_address: '0x00000000deadbeef',
      module_count: 3,
      main_module: 'acme.exe',
      timestamp: '2023-11-14T22:13:20.000Z',
    });
  });

  it('names Linux signals with their si_code, as Breakpad writes them', async () => {
    const facts = await parse(
      buildMinidump({
        platform: 0x8201,
        arch: 12,
        csd: 'Linux 6.1.0-13-arm64 #1 SMP',
        exception: { threadId: 77, code: 11, flags: 1, address: 0x10n },
        modules: ['/usr/bin/crashy', '/lib/libc.so.6'],
      }),
    );
    expect(facts).toMatchObject({
      os: 'Linux',
      cpu_arch: 'arm64',
      os_build: 'Linux 6.1.0-13-arm64 #1 SMP',
      exception_name: 'SIGSEGV',
      crash_reason: 'SIGSEGV / SEGV_MAPERR',
      crash_address: '0x0000000000000010',
      main_module: 'crashy',
      module_count: 2,
    });
  });

  it('names Mach exceptions on macOS', async () => {
    const facts = await parse(
      buildMinidump({
        platform: 0x8101,
        arch: 12,
        exception: { threadId: 1, code: 1, flags: 2, address: 0x8n },
        modules: ['/Applications/Acme.app/Contents/MacOS/Acme'],
      }),
    );
    expect(facts).toMatchObject({ os: 'macOS', crash_reason: 'EXC_BAD_ACCESS / KERN_PROTECTION_FAILURE', main_module: 'Acme' });
  });

  it('a dump without an exception stream (a requested dump) has null crash facts', async () => {
    const facts = await parse(buildMinidump({ modules: [] }));
    expect(facts).toMatchObject({ os: 'Windows', exception_code: null, crash_reason: null, module_count: 0, main_module: null });
  });

  it.each([
    ['truncated inside the streams', (b: Buffer) => b.subarray(0, 120)],
    ['truncated inside the header', (b: Buffer) => b.subarray(0, 20)],
    ['a directory pointing past the end', (b: Buffer) => (b.writeUInt32LE(0x7fff_0000, 12), b)],
    ['an absurd stream count', (b: Buffer) => (b.writeUInt32LE(1_000_000, 8), b)],
    ['a module name pointing past the end', (b: Buffer) => (b.writeUInt32LE(0xffff_fff0, streamRva(b, 4) + 4 + 20), b)],
    ['an absurd string length', (b: Buffer) => (b.writeUInt32LE(0x7fff_ffff, b.readUInt32LE(streamRva(b, 4) + 4 + 20)), b)],
  ])('a corrupt dump (%s) is a MinidumpError, not a crash', async (_name, corrupt) => {
    const buf = corrupt(Buffer.from(buildMinidump(windowsAv)));
    await expect(parse(buf)).rejects.toBeInstanceOf(MinidumpError);
  });

  it('recognises the magic', () => {
    expect(isMinidump(buildMinidump())).toBe(true);
    expect(isMinidump(Buffer.from('PK\x03\x04'))).toBe(false);
  });
});

describe('the dumps worker', () => {
  let stack: Awaited<ReturnType<typeof startWeb>>;
  let worker: TestWorker;
  beforeAll(async () => {
    stack = await startWeb();
    worker = await startWorker();
  });
  afterAll(async () => {
    await worker?.close();
    await stack?.web.close();
  });

  const upload = async (access: string, body: Buffer, filename: string) => {
    const res = await stack.http.post('/api/dumps/').set('Authorization', `Bearer ${access}`).attach('file', body, filename);
    expect(res.status).toBe(201);
    return res.body as { id: string; info: Record<string, unknown> };
  };
  const processed = (id: string, access: string) =>
    eventually(async () => {
      const res = await stack.http.get(`/api/dumps/${id}/`).set('Authorization', `Bearer ${access}`);
      return res.body.info?.status !== 'pending' ? res.body : null;
    });

  it('verifies the checksum and records minidump facts in info', async () => {
    const u = await createUser(stack.web.ds);
    const body = buildMinidump(windowsAv);
    const created = await upload(u.access, body, 'acme.dmp');
    expect(created.info).toEqual({ format: 'minidump', status: 'pending' });
    const dump = await processed(created.id, u.access);
    expect(dump.content_type).toBe('application/x-minidump');
    expect(dump.sha256).toBe(sha256(body));
    expect(dump.info).toMatchObject({
      format: 'minidump',
      status: 'processed',
      checksum: 'verified',
      minidump: {
        os: 'Windows',
        cpu_arch: 'amd64',
        crash_reason: 'EXCEPTION_ACCESS_VIOLATION_WRITE',
        module_count: 3,
        main_module: 'acme.exe',
      },
    });
  });

  it('a corrupt minidump records a parse error and the worker carries on', async () => {
    const u = await createUser(stack.web.ds);
    const broken = Buffer.from(buildMinidump(windowsAv));
    broken.writeUInt32LE(0x7fff_0000, 12); // directory far past the end
    const bad = await upload(u.access, broken, 'broken.dmp');
    const good = await upload(
      u.access,
      gzipSync(buildMinidump({ platform: 0x8201, exception: { threadId: 1, code: 6, address: 0n } })),
      'ok.dmp.gz',
    );
    const badDone = await processed(bad.id, u.access);
    expect(badDone.info).toMatchObject({
      status: 'error',
      checksum: 'verified',
      minidump_error: expect.stringContaining('stream directory'),
    });
    const goodDone = await processed(good.id, u.access);
    expect(goodDone.info).toMatchObject({ status: 'processed', uploaded_gzip: true, minidump: { os: 'Linux', crash_reason: 'SIGABRT' } });
    const failed = await stack.web.queues.dumps.getJobCounts('failed');
    expect(failed.failed).toBe(0);
  });

  it('other files are opaque: checksum verified, no minidump facts', async () => {
    const u = await createUser(stack.web.ds);
    const created = await upload(u.access, Buffer.from('just some bytes\n'.repeat(100)), 'notes.txt');
    const dump = await processed(created.id, u.access);
    expect(dump.info).toMatchObject({ format: 'opaque', status: 'processed', checksum: 'verified' });
    expect(dump.info.minidump).toBeUndefined();
  });
});

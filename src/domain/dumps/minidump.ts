import { ARCHITECTURES, describeException, hex, PLATFORMS } from './minidumpNames.ts';

/**
 * The facts worth showing about a minidump (Windows MiniDumpWriteDump, Breakpad,
 * Crashpad), read from its header and three streams without loading the file: the
 * parser asks for small byte ranges through `read`. Every offset and count comes from
 * the file, so each is bounds-checked: a corrupt dump is a MinidumpError, never an
 * out-of-bounds read or a huge allocation.
 */
export const MINIDUMP_MAGIC = 'MDMP';

const STREAM = { threadList: 3, moduleList: 4, exception: 6, systemInfo: 7 } as const;
const MAX_STREAMS = 4096;
const MAX_MODULES = 65_536;
const MAX_THREADS = 65_536;
const MAX_STRING_BYTES = 64 * 1024;
const MODULE_BYTES = 108;
const SYSTEM_INFO_BYTES = 56;
const EXCEPTION_BYTES = 168;

export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export class MinidumpError extends Error {
  override name = 'MinidumpError';
}

export interface MinidumpFacts {
  version: number;
  streams: number;
  /** When the dump was written (header TimeDateStamp), ISO 8601; null when unset. */
  timestamp: string | null;
  os: string | null;
  os_version: string | null;
  /** Service pack on Windows; Breakpad puts the kernel version here on Linux. */
  os_build: string | null;
  cpu_arch: string | null;
  cpu_count: number | null;
  thread_count: number | null;
  crashed_thread: number | null;
  exception_code: string | null;
  exception_name: string | null;
  crash_reason: string | null;
  crash_address: string | null;
  module_count: number | null;
  main_module: string | null;
}

export const isMinidump = (head: Buffer): boolean => head.length >= 4 && head.toString('latin1', 0, 4) === MINIDUMP_MAGIC;

interface Location {
  size: number;
  rva: number;
}

/** `size` is the file's size: every location must fall inside it. */
export async function parseMinidump(read: ReadAt, size: number): Promise<MinidumpFacts> {
  const at = async (offset: number, length: number, what: string): Promise<Buffer> => {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > size) {
      throw new MinidumpError(`${what} lies outside the file (offset ${offset}, ${length} bytes, file ${size} bytes)`);
    }
    const buf = await read(offset, length);
    if (buf.length < length) throw new MinidumpError(`${what}: file truncated`);
    return buf;
  };

  const header = await at(0, 32, 'header');
  if (header.toString('latin1', 0, 4) !== MINIDUMP_MAGIC) throw new MinidumpError('not a minidump (no MDMP signature)');
  const version = header.readUInt32LE(4) & 0xffff;
  const streamCount = header.readUInt32LE(8);
  const directoryRva = header.readUInt32LE(12);
  const stamp = header.readUInt32LE(20);
  if (streamCount > MAX_STREAMS) throw new MinidumpError(`implausible stream count ${streamCount}`);

  const dir = await at(directoryRva, streamCount * 12, 'stream directory');
  const streams = new Map<number, Location>();
  for (let i = 0; i < streamCount; i++) {
    const type = dir.readUInt32LE(i * 12);
    // The first of a type wins, as in Breakpad; type 0 is an unused slot.
    if (type !== 0 && !streams.has(type)) streams.set(type, { size: dir.readUInt32LE(i * 12 + 4), rva: dir.readUInt32LE(i * 12 + 8) });
  }

  const readString = async (rva: number, what: string): Promise<string | null> => {
    if (rva === 0) return null;
    const length = (await at(rva, 4, what)).readUInt32LE(0);
    if (length > MAX_STRING_BYTES) throw new MinidumpError(`${what}: implausible length ${length}`);
    return (await at(rva + 4, length, what)).toString('utf16le');
  };

  const facts: MinidumpFacts = {
    version,
    streams: streams.size,
    timestamp: stamp ? new Date(stamp * 1000).toISOString() : null,
    os: null,
    os_version: null,
    os_build: null,
    cpu_arch: null,
    cpu_count: null,
    thread_count: null,
    crashed_thread: null,
    exception_code: null,
    exception_name: null,
    crash_reason: null,
    crash_address: null,
    module_count: null,
    main_module: null,
  };

  const sys = streams.get(STREAM.systemInfo);
  if (sys) {
    const b = await at(sys.rva, Math.min(sys.size, SYSTEM_INFO_BYTES), 'SystemInfo stream');
    if (b.length < 32) throw new MinidumpError('SystemInfo stream too short');
    const arch = b.readUInt16LE(0);
    const platform = b.readUInt32LE(20);
    facts.cpu_arch = ARCHITECTURES[arch] ?? hex(arch, 4);
    facts.cpu_count = b.readUInt8(6);
    facts.os = PLATFORMS[platform] ?? hex(platform, 4);
    facts.os_version = `${b.readUInt32LE(8)}.${b.readUInt32LE(12)}.${b.readUInt32LE(16)}`;
    facts.os_build = (await readString(b.readUInt32LE(24), 'CSD version string'))?.trim() || null;
  }

  const threads = streams.get(STREAM.threadList);
  if (threads) {
    const count = (await at(threads.rva, 4, 'ThreadList stream')).readUInt32LE(0);
    if (count > MAX_THREADS) throw new MinidumpError(`implausible thread count ${count}`);
    facts.thread_count = count;
  }

  const exc = streams.get(STREAM.exception);
  if (exc) {
    const b = await at(exc.rva, Math.min(exc.size, EXCEPTION_BYTES), 'Exception stream');
    if (b.length < 32) throw new MinidumpError('Exception stream too short');
    const code = b.readUInt32LE(8);
    const flags = b.readUInt32LE(12);
    const address = b.readBigUInt64LE(24);
    const params = b.length >= 40 ? b.readUInt32LE(32) : 0;
    const info = (i: number) => (i < Math.min(params, 15) && b.length >= 40 + 8 * (i + 1) ? b.readBigUInt64LE(40 + 8 * i) : undefined);
    const { name, reason } = describeException(facts.os, code, flags, info(0));
    facts.crashed_thread = b.readUInt32LE(0);
    facts.exception_code = hex(code, 8);
    facts.exception_name = name;
    facts.crash_reason = reason;
    // For an access violation Windows puts the faulting data address in the parameters;
    // elsewhere the exception address is the one that matters.
    const avAddress = code === 0xc0000005 && !['Linux', 'Android', 'macOS', 'iOS'].includes(facts.os ?? '') ? info(1) : undefined;
    facts.crash_address = hex(avAddress ?? address, 16);
  }

  const modules = streams.get(STREAM.moduleList);
  if (modules) {
    const count = (await at(modules.rva, 4, 'ModuleList stream')).readUInt32LE(0);
    if (count > MAX_MODULES) throw new MinidumpError(`implausible module count ${count}`);
    facts.module_count = count;
    if (count > 0) {
      // Some writers pad the count to 8 bytes (Breakpad's processor accepts both layouts).
      const padded = modules.size === 8 + count * MODULE_BYTES;
      // Breakpad and Windows both list the main executable first.
      const first = await at(modules.rva + (padded ? 8 : 4), MODULE_BYTES, 'first module');
      const path = await readString(first.readUInt32LE(20), 'main module name');
      facts.main_module = path ? (path.split(/[\\/]/).pop() ?? path) : null;
    }
  }
  return facts;
}

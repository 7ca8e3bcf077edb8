/**
 * Builds small minidumps for tests, laid out as MiniDumpWriteDump and Breakpad write
 * them: header, stream directory, streams, then the strings they point to.
 */
export interface MinidumpSpec {
  platform?: number; // 2 Windows NT, 0x8201 Linux, 0x8101 macOS, …
  arch?: number; // 9 amd64, 12 arm64, 0 x86, …
  cpus?: number;
  version?: [number, number, number];
  csd?: string;
  threads?: number;
  exception?: { threadId: number; code: number; flags?: number; address: bigint; params?: bigint[] };
  modules?: string[];
  timestamp?: number;
}

class Writer {
  private parts: Buffer[] = [];
  size = 0;
  add(b: Buffer): number {
    const at = this.size;
    this.parts.push(b);
    this.size += b.length;
    return at;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function mdString(s: string): Buffer {
  const text = Buffer.from(s, 'utf16le');
  const b = Buffer.alloc(4 + text.length + 2);
  b.writeUInt32LE(text.length, 0);
  text.copy(b, 4);
  return b;
}

export function buildMinidump(spec: MinidumpSpec = {}): Buffer {
  const streams: Array<{ type: number; build: (w: Writer) => { rva: number; size: number } }> = [];
  streams.push({
    type: 7,
    build: (w) => {
      const b = Buffer.alloc(56);
      b.writeUInt16LE(spec.arch ?? 9, 0);
      b.writeUInt8(spec.cpus ?? 8, 6);
      const [maj, min, build] = spec.version ?? [10, 0, 19045];
      b.writeUInt32LE(maj, 8);
      b.writeUInt32LE(min, 12);
      b.writeUInt32LE(build, 16);
      b.writeUInt32LE(spec.platform ?? 2, 20);
      const rva = w.add(b);
      if (spec.csd !== undefined) b.writeUInt32LE(w.add(mdString(spec.csd)), 24);
      return { rva, size: 56 };
    },
  });
  if (spec.threads !== undefined) {
    streams.push({
      type: 3,
      build: (w) => {
        const b = Buffer.alloc(4 + spec.threads! * 48);
        b.writeUInt32LE(spec.threads!, 0);
        return { rva: w.add(b), size: b.length };
      },
    });
  }
  if (spec.exception) {
    const e = spec.exception;
    streams.push({
      type: 6,
      build: (w) => {
        const b = Buffer.alloc(168);
        b.writeUInt32LE(e.threadId, 0);
        b.writeUInt32LE(e.code, 8);
        b.writeUInt32LE(e.flags ?? 0, 12);
        b.writeBigUInt64LE(e.address, 24);
        const params = e.params ?? [];
        b.writeUInt32LE(params.length, 32);
        params.forEach((p, i) => b.writeBigUInt64LE(p, 40 + 8 * i));
        return { rva: w.add(b), size: 168 };
      },
    });
  }
  if (spec.modules) {
    const names = spec.modules;
    streams.push({
      type: 4,
      build: (w) => {
        const b = Buffer.alloc(4 + names.length * 108);
        b.writeUInt32LE(names.length, 0);
        names.forEach((_, i) => {
          b.writeBigUInt64LE(0x400000n + BigInt(i) * 0x100000n, 4 + i * 108);
          b.writeUInt32LE(0x10000, 4 + i * 108 + 8);
        });
        const rva = w.add(b);
        names.forEach((name, i) => b.writeUInt32LE(w.add(mdString(name)), 4 + i * 108 + 20));
        return { rva, size: b.length };
      },
    });
  }

  const w = new Writer();
  const header = Buffer.alloc(32);
  header.write('MDMP', 0, 'latin1');
  header.writeUInt32LE(0xa793, 4);
  header.writeUInt32LE(streams.length, 8);
  header.writeUInt32LE(32, 12);
  header.writeUInt32LE(spec.timestamp ?? 1_700_000_000, 20);
  w.add(header);
  const dir = Buffer.alloc(streams.length * 12);
  w.add(dir);
  streams.forEach((s, i) => {
    const { rva, size } = s.build(w);
    dir.writeUInt32LE(s.type, i * 12);
    dir.writeUInt32LE(size, i * 12 + 4);
    dir.writeUInt32LE(rva, i * 12 + 8);
  });
  return w.bytes();
}

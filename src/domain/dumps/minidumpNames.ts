/**
 * Names for the numbers in a minidump, as Microsoft's minidumpapiset.h and Breakpad's
 * minidump_format.h / minidump_exception_*.h define them.
 */

/** MINIDUMP_SYSTEM_INFO.PlatformId: Windows' VER_PLATFORM_* and Breakpad's MD_OS_*. */
export const PLATFORMS: Record<number, string> = {
  0: 'Windows', // VER_PLATFORM_WIN32s
  1: 'Windows', // VER_PLATFORM_WIN32_WINDOWS (9x)
  2: 'Windows', // VER_PLATFORM_WIN32_NT
  0x8000: 'Unix',
  0x8101: 'macOS',
  0x8102: 'iOS',
  0x8201: 'Linux',
  0x8202: 'Solaris',
  0x8203: 'Android',
  0x8204: 'PS3',
  0x8205: 'NaCl',
  0x8206: 'Fuchsia',
};

/** MINIDUMP_SYSTEM_INFO.ProcessorArchitecture: PROCESSOR_ARCHITECTURE_* and Breakpad's extensions. */
export const ARCHITECTURES: Record<number, string> = {
  0: 'x86',
  1: 'mips',
  2: 'alpha',
  3: 'ppc',
  4: 'shx',
  5: 'arm',
  6: 'ia64',
  7: 'alpha64',
  8: 'msil',
  9: 'amd64',
  10: 'x86_win64',
  12: 'arm64',
  0x8001: 'sparc',
  0x8002: 'ppc64',
  0x8003: 'arm64', // Breakpad's old ARM64 value
  0x8004: 'mips64',
  0x8005: 'riscv',
  0x8006: 'riscv64',
  0xffff: 'unknown',
};

/** Windows exception codes (NTSTATUS) most crashes carry. */
const WINDOWS: Record<number, string> = {
  0x80000003: 'EXCEPTION_BREAKPOINT',
  0x80000004: 'EXCEPTION_SINGLE_STEP',
  0xc0000005: 'EXCEPTION_ACCESS_VIOLATION',
  0xc0000006: 'EXCEPTION_IN_PAGE_ERROR',
  0xc0000008: 'EXCEPTION_INVALID_HANDLE',
  0xc000001d: 'EXCEPTION_ILLEGAL_INSTRUCTION',
  0xc0000025: 'EXCEPTION_NONCONTINUABLE_EXCEPTION',
  0xc000008c: 'EXCEPTION_ARRAY_BOUNDS_EXCEEDED',
  0xc000008e: 'EXCEPTION_FLT_DIVIDE_BY_ZERO',
  0xc0000094: 'EXCEPTION_INT_DIVIDE_BY_ZERO',
  0xc0000095: 'EXCEPTION_INT_OVERFLOW',
  0xc0000096: 'EXCEPTION_PRIV_INSTRUCTION',
  0xc00000fd: 'EXCEPTION_STACK_OVERFLOW',
  0xc0000374: 'EXCEPTION_HEAP_CORRUPTION',
  0xc0000409: 'EXCEPTION_STACK_BUFFER_OVERRUN',
  0xc0000420: 'EXCEPTION_ASSERTION_FAILURE',
  0xc0000602: 'EXCEPTION_FAIL_FAST',
  0xe06d7363: 'Unhandled C++ Exception',
};

/** On Linux and Android, Breakpad stores the signal number as the code and si_code as the flags. */
const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
  31: 'SIGSYS',
  0xffffffff: 'DUMP_REQUESTED',
};
const SIGNAL_CODES: Record<string, Record<number, string>> = {
  SIGSEGV: { 1: 'SEGV_MAPERR', 2: 'SEGV_ACCERR', 3: 'SEGV_BNDERR', 4: 'SEGV_PKUERR' },
  SIGBUS: { 1: 'BUS_ADRALN', 2: 'BUS_ADRERR', 3: 'BUS_OBJERR' },
  SIGFPE: {
    1: 'FPE_INTDIV',
    2: 'FPE_INTOVF',
    3: 'FPE_FLTDIV',
    4: 'FPE_FLTOVF',
    5: 'FPE_FLTUND',
    6: 'FPE_FLTRES',
    7: 'FPE_FLTINV',
    8: 'FPE_FLTSUB',
  },
  SIGILL: {
    1: 'ILL_ILLOPC',
    2: 'ILL_ILLOPN',
    3: 'ILL_ILLADR',
    4: 'ILL_ILLTRP',
    5: 'ILL_PRVOPC',
    6: 'ILL_PRVREG',
    7: 'ILL_COPROC',
    8: 'ILL_BADSTK',
  },
};

/** On macOS and iOS the code is the Mach exception type and the flags its kern_return_t. */
const MACH: Record<number, string> = {
  1: 'EXC_BAD_ACCESS',
  2: 'EXC_BAD_INSTRUCTION',
  3: 'EXC_ARITHMETIC',
  4: 'EXC_EMULATION',
  5: 'EXC_SOFTWARE',
  6: 'EXC_BREAKPOINT',
  7: 'EXC_SYSCALL',
  8: 'EXC_MACH_SYSCALL',
  9: 'EXC_RPC_ALERT',
  10: 'EXC_CRASH',
  11: 'EXC_RESOURCE',
  12: 'EXC_GUARD',
};
const KERN: Record<number, string> = { 1: 'KERN_INVALID_ADDRESS', 2: 'KERN_PROTECTION_FAILURE' };

export const hex = (n: bigint | number, width = 0): string => `0x${n.toString(16).padStart(width, '0')}`;

/**
 * The exception's name and a crash reason in Breakpad's style (e.g.
 * "EXCEPTION_ACCESS_VIOLATION_WRITE", "SIGSEGV / SEGV_MAPERR"), per platform.
 */
export function describeException(
  os: string | null,
  code: number,
  flags: number,
  info0: bigint | undefined,
): { name: string | null; reason: string } {
  if (os === 'Linux' || os === 'Android' || os === 'Solaris' || os === 'Unix' || os === 'Fuchsia') {
    const name = SIGNALS[code] ?? null;
    const sub = name ? SIGNAL_CODES[name]?.[flags] : undefined;
    return { name, reason: name ? (sub ? `${name} / ${sub}` : name) : hex(code, 8) };
  }
  if (os === 'macOS' || os === 'iOS') {
    const name = MACH[code] ?? null;
    const sub = KERN[flags];
    return { name, reason: name ? (sub ? `${name} / ${sub}` : name) : hex(code, 8) };
  }
  const name = WINDOWS[code] ?? null;
  if (code === 0xc0000005 && info0 !== undefined) {
    const kind = info0 === 0n ? 'READ' : info0 === 1n ? 'WRITE' : info0 === 8n ? 'EXEC' : null;
    return { name, reason: kind ? `EXCEPTION_ACCESS_VIOLATION_${kind}` : 'EXCEPTION_ACCESS_VIOLATION' };
  }
  return { name, reason: name ?? hex(code, 8) };
}

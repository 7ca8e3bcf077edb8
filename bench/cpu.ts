/**
 * CPU time per stage of a running stack, from /proc (Linux): every process under the
 * stack's launcher, grouped by what it runs — web, worker, PostgreSQL (postmaster and
 * backends), Redis, the launcher itself. utime + stime, plus the children already reaped
 * (cutime + cstime: PostgreSQL backends that exited). Read before and after a run: the
 * difference ÷ events stored is the per-stage cost.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type Stage = 'web' | 'worker' | 'web+worker' | 'postgres' | 'redis' | 'launcher';
export type CpuSnapshot = Partial<Record<Stage, number>>; // seconds

const TICK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Proc {
  pid: number;
  ppid: number;
  cpu: number;
  cmd: string;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: fields start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = [f[11], f[12], f[13], f[14]].map(Number);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: Number(f[1]), cpu: (utime + stime + cutime + cstime) / TICK, cmd };
  } catch {
    return null; // exited meanwhile
  }
}

function stageOf(p: Proc, rootPid: number): Stage {
  if (p.pid === rootPid) return 'launcher';
  if (/redis-server/.test(p.cmd)) return 'redis';
  if (/^(\S*\/)?postgres\b|^postgres:/.test(p.cmd)) return 'postgres';
  if (/run\.mjs standalone\b/.test(p.cmd)) return 'web+worker';
  if (/run\.mjs worker\b/.test(p.cmd)) return 'worker';
  if (/run\.mjs web\b/.test(p.cmd)) return 'web';
  return 'launcher';
}

/** CPU seconds so far of every stage under `rootPid` (the `npm start` launcher). Empty off Linux. */
export function cpuByStage(rootPid: number): CpuSnapshot {
  if (process.platform !== 'linux') return {};
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: CpuSnapshot = {};
  const root = procs.find((p) => p.pid === rootPid);
  if (!root) return out;
  const walk = (p: Proc, inherited: Stage | null) => {
    // A PostgreSQL backend is a postgres process under the postmaster: same stage.
    const stage = inherited === 'postgres' || inherited === 'redis' ? inherited : stageOf(p, rootPid);
    out[stage] = (out[stage] ?? 0) + p.cpu;
    for (const c of children.get(p.pid) ?? []) walk(c, stage);
  };
  walk(root, null);
  return out;
}

/** after − before, per stage. */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  const out: CpuSnapshot = {};
  for (const k of Object.keys(after) as Stage[]) out[k] = (after[k] ?? 0) - (before[k] ?? 0);
  return out;
}

import type { ChildProcess } from 'node:child_process';
import { RestartPolicy, type RestartPolicyOptions } from './restartPolicy.ts';

export interface SupervisedOptions {
  name: string;
  spawn: () => ChildProcess;
  policy: RestartPolicyOptions;
  say: (msg: string) => void;
  /** The process crashed too often: the caller stops everything. */
  onGiveUp: (reason: string) => void;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

/**
 * One long-running child of `npm start` (web or worker), restarted when it exits on its
 * own. PostgreSQL and Redis are not supervised this way: they belong to the supervisor
 * and live as long as it does, so a crashing child never takes the data stores down.
 */
export class SupervisedProcess {
  private current: ChildProcess | null = null;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly policy: RestartPolicy;

  constructor(private readonly o: SupervisedOptions) {
    this.policy = new RestartPolicy(o.policy);
  }

  get name(): string {
    return this.o.name;
  }

  /** The running process, or null while it is down (between a crash and its restart). */
  get child(): ChildProcess | null {
    return this.current;
  }

  /** When the running (or last) process was started, in ms since the epoch. */
  get lastStartedAt(): number {
    return this.startedAt;
  }

  start(): void {
    if (this.stopped) return;
    const child = this.o.spawn();
    this.current = child;
    this.startedAt = Date.now();
    let settled = false;
    const onEnd = (why: string) => {
      if (settled) return;
      settled = true;
      if (this.current === child) this.current = null;
      this.exited(why);
    };
    child.once('exit', (code, signal) => onEnd(String(signal ?? code)));
    // A failed spawn (e.g. EAGAIN) may emit 'error' without 'exit'.
    child.once('error', (err) => onEnd(err.message));
  }

  private exited(why: string): void {
    if (this.stopped) return;
    const { maxCrashes, windowMs } = this.o.policy;
    const decision = this.policy.onExit(this.startedAt, Date.now());
    if (!decision.restart) {
      this.o.onGiveUp(`${this.o.name} exited (${why}): it crashed ${decision.crashes} times within ${seconds(windowMs)}; giving up.`);
      return;
    }
    this.o.say(
      `${this.o.name} exited (${why}); restarting in ${seconds(decision.delayMs)} (crash ${decision.crashes} of ${maxCrashes} in ${seconds(windowMs)})`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
    }, decision.delayMs);
  }

  /** No more restarts (a pending one is cancelled); SIGTERM the process, SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.current;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

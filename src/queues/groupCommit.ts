/**
 * Group commit: requests arriving together share one BullMQ job. BullMQ's cost is per
 * job, so packing events is what makes ingestion cheap. Each caller's promise settles
 * only when the job holding its items is in Redis (or the add failed), so "202" still
 * means "durably queued".
 *
 * Batches size themselves: when fewer than `maxInFlight` commits are running, what has
 * arrived is committed on the next turn of the event loop (no added latency at low
 * load); otherwise items wait for a running commit to finish, so under load each job
 * carries everything that arrived meanwhile. `windowMs` caps that wait.
 *
 * A caller's items always travel in one job: a request is accepted or refused whole.
 */
export interface GroupCommitOptions {
  windowMs: number;
  maxItems: number;
  maxBytes: number;
  maxInFlight?: number;
}

interface Group<T, R> {
  items: T[];
  bytes: number;
  waiters: Array<{ resolve: (result: R) => void; reject: (err: unknown) => void }>;
  timer: NodeJS.Timeout | null;
  scheduled: boolean;
}

export class GroupCommit<T, R = void> {
  private open: Group<T, R> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly maxInFlight: number;

  constructor(
    /** Commits a whole group; every caller in the group receives its result. */
    private readonly commit: (items: T[]) => Promise<R>,
    private readonly opts: GroupCommitOptions,
  ) {
    this.maxInFlight = opts.maxInFlight ?? 2;
  }

  add(items: T[], bytes: number): Promise<R> {
    if (this.open && (this.open.items.length + items.length > this.opts.maxItems || this.open.bytes + bytes > this.opts.maxBytes)) {
      this.flush();
    }
    const group = (this.open ??= { items: [], bytes: 0, waiters: [], timer: null, scheduled: false });
    for (const item of items) group.items.push(item);
    group.bytes += bytes;
    const settled = new Promise<R>((resolve, reject) => group.waiters.push({ resolve, reject }));
    if (group.items.length >= this.opts.maxItems || group.bytes >= this.opts.maxBytes) {
      this.flush();
    } else if (this.inFlight.size < this.maxInFlight) {
      if (!group.scheduled) {
        group.scheduled = true;
        setImmediate(() => {
          if (this.open === group && this.inFlight.size < this.maxInFlight) this.flush();
        });
      }
    } else if (!group.timer) {
      group.timer = setTimeout(() => this.open === group && this.flush(), this.opts.windowMs);
    }
    return settled;
  }

  /** Commit whatever is waiting now. */
  flush(): void {
    const group = this.open;
    if (!group) return;
    this.open = null;
    if (group.timer) clearTimeout(group.timer);
    const done = this.commit(group.items).then(
      (result) => group.waiters.forEach((w) => w.resolve(result)),
      (err) => group.waiters.forEach((w) => w.reject(err)),
    );
    this.inFlight.add(done);
    void done.finally(() => {
      this.inFlight.delete(done);
      // What gathered while this commit ran goes now.
      if (this.open && this.inFlight.size < this.maxInFlight) this.flush();
    });
  }

  /** For shutdown: commit the open group and wait for every commit to settle. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  get pendingItems(): number {
    return this.open?.items.length ?? 0;
  }
}

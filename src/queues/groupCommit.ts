/**
 * Group commit: requests arriving within a few milliseconds share one BullMQ job.
 * BullMQ's cost is per job, so packing events is what makes ingestion cheap. Each
 * caller's promise settles only when the job holding its items is in Redis (or the
 * add failed), so "202" still means "durably queued".
 *
 * A caller's items always travel in one job: a request is accepted or refused whole.
 */
export interface GroupCommitOptions {
  windowMs: number;
  maxItems: number;
  maxBytes: number;
}

interface Group<T> {
  items: T[];
  bytes: number;
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
  timer: NodeJS.Timeout | null;
}

export class GroupCommit<T> {
  private open: Group<T> | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly commit: (items: T[]) => Promise<void>,
    private readonly opts: GroupCommitOptions,
  ) {}

  add(items: T[], bytes: number): Promise<void> {
    if (this.open && (this.open.items.length + items.length > this.opts.maxItems || this.open.bytes + bytes > this.opts.maxBytes)) {
      this.flush();
    }
    const group = (this.open ??= { items: [], bytes: 0, waiters: [], timer: null });
    for (const item of items) group.items.push(item);
    group.bytes += bytes;
    const settled = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
    if (group.items.length >= this.opts.maxItems || group.bytes >= this.opts.maxBytes || this.opts.windowMs === 0) {
      this.flush();
    } else if (!group.timer) {
      group.timer = setTimeout(() => this.flush(), this.opts.windowMs);
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
      () => group.waiters.forEach((w) => w.resolve()),
      (err) => group.waiters.forEach((w) => w.reject(err)),
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** For shutdown: commit the open group and wait for every commit to settle. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  get pendingItems(): number {
    return this.open?.items.length ?? 0;
  }
}

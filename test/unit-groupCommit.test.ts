import { describe, expect, it } from '@jest/globals';
import { GroupCommit } from '../src/queues/groupCommit.ts';

function recorder(fail = false) {
  const commits: number[][] = [];
  const commit = async (items: number[]) => {
    commits.push(items);
    await new Promise((r) => setTimeout(r, 1));
    if (fail) throw new Error('redis down');
  };
  return { commits, commit };
}

describe('group commit', () => {
  it('requests arriving within the window share one commit, each settling after it', async () => {
    const { commits, commit } = recorder();
    const g = new GroupCommit(commit, { windowMs: 20, maxItems: 100, maxBytes: 1e6 });
    await Promise.all([g.add([1], 10), g.add([2, 3], 10), g.add([4], 10)]);
    expect(commits).toEqual([[1, 2, 3, 4]]);
  });

  it('commits as soon as the group is full, without waiting for the window', async () => {
    const { commits, commit } = recorder();
    const g = new GroupCommit(commit, { windowMs: 60_000, maxItems: 3, maxBytes: 1e6 });
    await Promise.all([g.add([1, 2], 1), g.add([3], 1)]);
    expect(commits).toEqual([[1, 2, 3]]);
  });

  it('never splits one request across commits', async () => {
    const { commits, commit } = recorder();
    const g = new GroupCommit(commit, { windowMs: 5, maxItems: 4, maxBytes: 1e6 });
    await Promise.all([g.add([1, 2, 3], 1), g.add([4, 5, 6], 1), g.add([7, 8, 9, 10, 11], 1)]);
    expect(commits).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9, 10, 11],
    ]);
  });

  it('also groups by bytes', async () => {
    const { commits, commit } = recorder();
    const g = new GroupCommit(commit, { windowMs: 5, maxItems: 100, maxBytes: 100 });
    await Promise.all([g.add([1], 60), g.add([2], 60)]);
    expect(commits).toEqual([[1], [2]]);
  });

  it('a failed commit rejects every request in the group', async () => {
    const { commit } = recorder(true);
    const g = new GroupCommit(commit, { windowMs: 5, maxItems: 100, maxBytes: 1e6 });
    const results = await Promise.allSettled([g.add([1], 1), g.add([2], 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('while maxInFlight commits run, arrivals gather into the next commit (batches grow with load)', async () => {
    const commits: number[][] = [];
    const gates: Array<() => void> = [];
    const commit = (items: number[]) => {
      commits.push(items);
      return new Promise<void>((resolve) => gates.push(resolve));
    };
    const g = new GroupCommit(commit, { windowMs: 60_000, maxItems: 100, maxBytes: 1e6, maxInFlight: 1 });
    const first = g.add([1], 1);
    await new Promise((r) => setImmediate(r));
    expect(commits).toEqual([[1]]); // idle: went at once
    const rest = [g.add([2], 1), g.add([3], 1), g.add([4], 1)];
    await new Promise((r) => setImmediate(r));
    expect(commits).toEqual([[1]]); // one commit running: the others wait
    gates[0]();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(commits).toEqual([[1], [2, 3, 4]]);
    gates[1]();
    await Promise.all(rest);
  });

  it('drain commits what is waiting and waits for it', async () => {
    const { commits, commit } = recorder();
    const g = new GroupCommit(commit, { windowMs: 60_000, maxItems: 100, maxBytes: 1e6 });
    const pending = g.add([1], 1);
    await g.drain();
    expect(commits).toEqual([[1]]);
    await expect(pending).resolves.toBeUndefined();
  });
});

/**
 * Rounds in which no key repeats: one INSERT … ON CONFLICT DO UPDATE may not touch a row
 * twice, and a job can hold a create and its update. The merge is order-independent, so
 * the rounds' order does not matter.
 */
export function uniqueRounds<T>(records: T[], keyOf: (r: T) => string): T[][] {
  const rounds: T[][] = [];
  const seen: Array<Set<string>> = [];
  for (const r of records) {
    const key = keyOf(r);
    let i = seen.findIndex((s) => !s.has(key));
    if (i === -1) {
      i = rounds.length;
      rounds.push([]);
      seen.push(new Set());
    }
    rounds[i].push(r);
    seen[i].add(key);
  }
  return rounds;
}

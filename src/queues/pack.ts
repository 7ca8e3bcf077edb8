/**
 * A group-committed job carries the records of concurrent requests: mostly one project,
 * one service, often the same error, so most fields repeat from record to record. Redis's
 * cost follows the bytes queued (README "Benchmarks"), and the web process serializes and
 * the worker parses every one of them: fields whose value is the same in every record of
 * a job travel once, in `shared`. Jobs without `shared` (queued before this) read as
 * before — payload fields are stored data, this one is optional.
 */

export interface Packed<T> {
  items: Array<Partial<T>>;
  shared?: Partial<T>;
}

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** Hoists the fields equal (by value, as JSON would carry them) in every record. */
export function pack<T extends object>(items: T[]): Packed<T> {
  if (items.length < 2) return { items };
  const first = items[0] as Record<string, unknown>;
  const shared: Record<string, unknown> = {};
  for (const key of Object.keys(first)) {
    const v = first[key];
    if (v === undefined) continue;
    // Objects compare by their JSON (what BullMQ would have written for each record anyway).
    const json = isObject(v) ? JSON.stringify(v) : null;
    let same = true;
    for (let i = 1; i < items.length && same; i++) {
      const w = (items[i] as Record<string, unknown>)[key];
      same = json === null ? w === v : w === v || (isObject(w) && JSON.stringify(w) === json);
    }
    if (same) shared[key] = v;
  }
  const keys = Object.keys(shared);
  if (!keys.length) return { items };
  const hoisted = new Set(keys);
  const rest = items.map((item) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) if (!hoisted.has(k)) out[k] = v;
    return out as Partial<T>;
  });
  return { items: rest, shared: shared as Partial<T> };
}

/** The job's records, whole again: what the payload schema validates (preprocess). */
export function unpack(data: unknown): unknown {
  if (!isObject(data) || !('shared' in data)) return data;
  const { shared, items, ...rest } = data as { shared: unknown; items: unknown };
  if (!isObject(shared) || !Array.isArray(items)) return data;
  return { ...rest, items: items.map((item: unknown) => (isObject(item) ? { ...shared, ...item } : item)) };
}

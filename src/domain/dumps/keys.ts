/** Dump ids are v4 uuids, lower-case, as randomUUID() makes them. */
export const DUMP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isDumpId = (id: string): boolean => DUMP_ID.test(id);

/** The crash store's layout: <DUMPS_DIR>/<first char>/<second char>/<uuid>. */
export const liveKey = (id: string): string => `${id[0]}/${id[1]}/${id}`;

/** The archive copy: the same layout under ARCHIVE_DIR, gzip'd. */
export const archiveKey = (id: string): string => `${liveKey(id)}.gz`;

/** The two-level folders the layout uses, for walks over every stored object. */
export const SHARD_PREFIXES: string[] = [...'0123456789abcdef'].flatMap((a) => [...'0123456789abcdef'].map((b) => `${a}/${b}/`));

/** The dump id a live or archive key belongs to, or null for anything else. */
export function idOfKey(key: string, kind: 'live' | 'archive'): string | null {
  const m = /^([0-9a-f])\/([0-9a-f])\/([0-9a-f-]{36})(\.gz)?$/.exec(key);
  if (!m || m[1] !== m[3][0] || m[2] !== m[3][1] || !isDumpId(m[3])) return null;
  return (kind === 'archive') === Boolean(m[4]) ? m[3] : null;
}

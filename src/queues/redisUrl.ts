/**
 * Where Redis is: one server (`redis://host:6379/0`, parsed by ioredis itself) or a Redis
 * Cluster, named by its nodes — `redis://[user:pass@]h1:p1,h2:p2,h3:p3` in REDIS_URL, or
 * `REDIS_CLUSTER_NODES=h1:p1,h2:p2` (then REDIS_URL, if set, only brings the scheme and
 * credentials), or one seed node marked `redis://h1:p1?cluster=true` (ioredis finds the
 * rest). Pure parsing: config validates with it, the connection factory uses it.
 */

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  { cluster: false; url: string } | { cluster: true; nodes: RedisNode[]; username?: string; password?: string; tls: boolean };

const MULTI = /^(rediss?):\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/(\d*))?(\?.*)?$/;

function parseNode(raw: string): RedisNode {
  const s = raw.trim();
  // [::1]:7000 or host:7000 (a port is required: cluster nodes have no usual port)
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`"${s}" is not host:port`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function credentials(userinfo: string | undefined): { username?: string; password?: string } {
  if (!userinfo) return {};
  const at = userinfo.indexOf(':');
  // redis://:secret@host is "no user, this password" (the default user).
  if (at < 0) return { username: decodeURIComponent(userinfo) };
  return {
    username: decodeURIComponent(userinfo.slice(0, at)) || undefined,
    password: decodeURIComponent(userinfo.slice(at + 1)) || undefined,
  };
}

/** Throws with a message fit for "REDIS_URL: …" when the value cannot be used. */
export function parseRedisTarget(url: string | undefined, clusterNodes?: string): RedisTarget {
  if (clusterNodes !== undefined) {
    const nodes = clusterNodes
      .split(',')
      .filter((s) => s.trim())
      .map(parseNode);
    if (!nodes.length) throw new Error('REDIS_CLUSTER_NODES lists no node');
    const base = url ? MULTI.exec(url) : null;
    if (url && !base) throw new Error('REDIS_URL must look like redis://[user:password@]host:port');
    const auth = base ? credentials(base[2]) : {};
    return { cluster: true, nodes, ...auth, tls: base?.[1] === 'rediss' };
  }
  if (!url) throw new Error('not set');
  const m = MULTI.exec(url);
  if (!m) throw new Error('must look like redis://[user:password@]host:port[/db], or list cluster nodes redis://h1:p1,h2:p2');
  const hosts = m[3].split(',');
  const marked = new URLSearchParams(m[5] ?? '').get('cluster') === 'true';
  if (hosts.length === 1 && !marked) return { cluster: false, url };
  // A cluster has one database (SELECT is refused): only /0 or none.
  if (m[4] && m[4] !== '0') throw new Error('a Redis Cluster has only database 0');
  return { cluster: true, nodes: hosts.map(parseNode), ...credentials(m[2]), tls: m[1] === 'rediss' };
}

/**
 * Redis Cluster hashes a key by the text inside its first `{…}` only. Every key Faultline
 * writes starts with the queue prefix, so a prefix opening with a non-empty hash tag puts
 * them in one slot — which BullMQ's multi-key Lua scripts (and our pipelines) need.
 */
export function hasHashTag(prefix: string): boolean {
  return /^[^{]*\{[^}]+\}/.test(prefix);
}

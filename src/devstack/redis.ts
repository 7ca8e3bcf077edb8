import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { spawnService, waitUntil, type Service } from './process.ts';

export const REDIS_INSTALL_HINT = `redis-server was not found on PATH. Install it, or point REDIS_URL at a Redis you run:
  Debian/Ubuntu:  sudo apt-get install -y redis-server
  macOS:          brew install redis
  or set          REDIS_URL=redis://host:6379/0`;

export function findRedisServer(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export interface LocalRedisOptions {
  dir: string;
  port: number;
  /** AOF on (everysec), as queues need; off for throwaway test servers. Either way noeviction. */
  persistent: boolean;
  /**
   * Bytes Redis may use before it refuses writes (noeviction: queued jobs are never
   * evicted, a full Redis answers errors and ingestion 503s). Unset or 0: no limit, so the
   * kernel's OOM killer is the limit instead.
   */
  maxmemory?: number;
  detached?: boolean;
  logFile?: string;
  /** Called as soon as the server process exists, before it is ready. */
  onSpawn?: (stop: () => Promise<void>) => void;
}

export interface LocalRedis {
  url: string;
  service: Service;
  stop(): Promise<void>;
}

export async function startRedis(o: LocalRedisOptions): Promise<LocalRedis> {
  const bin = findRedisServer();
  if (!bin) throw new Error(REDIS_INSTALL_HINT);
  mkdirSync(o.dir, { recursive: true });
  const args = ['--port', String(o.port), '--bind', '127.0.0.1', '--dir', o.dir, '--maxmemory-policy', 'noeviction', '--save', ''];
  if (o.maxmemory) args.push('--maxmemory', String(o.maxmemory));
  args.push(...(o.persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no']));
  const service = spawnService(bin, args, { detached: o.detached, logFile: o.logFile });
  // SIGTERM: Redis flushes its AOF and exits.
  const stop = () => service.stop('SIGTERM', 15_000);
  o.onSpawn?.(stop);
  await waitUntil(() => ping(o.port), service, 15_000, 'Redis', o.logFile);
  return {
    url: `redis://127.0.0.1:${o.port}`,
    service,
    stop,
  };
}

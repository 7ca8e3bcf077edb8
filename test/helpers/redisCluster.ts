import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pickPort, spawnService, waitUntil, type Service } from '../../src/devstack/process.ts';

const run = promisify(execFile);

export interface LocalCluster {
  ports: number[];
  /** REDIS_URL naming every node: redis://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
  url: string;
  stop(): Promise<void>;
}

const cli = (port: number, ...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });

/**
 * A real three-master Redis Cluster on loopback, each node in its own temp directory:
 * `redis-server --cluster-enabled yes`, joined by `redis-cli --cluster create`, ready once
 * every node reports `cluster_state:ok`. Throwaway (no persistence).
 */
export async function startRedisCluster(nodes = 3): Promise<LocalCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'faultline-cluster-'));
  const services: Service[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(services.map((s) => s.stop('SIGTERM', 5000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < nodes; i++) {
      // The cluster bus listens on port + 10000: both must be free.
      let port = await pickPort();
      while (port + 10000 > 65535) port = await pickPort();
      ports.push(port);
      const nodeDir = path.join(dir, String(port));
      mkdirSync(nodeDir);
      const logFile = path.join(nodeDir, 'redis.log');
      const service = spawnService(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          nodeDir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--save',
          '',
          '--appendonly',
          'no',
          '--maxmemory-policy',
          'noeviction',
        ],
        { logFile },
      );
      services.push(service);
      await waitUntil(
        async () => (await cli(port, 'ping')).stdout.trim() === 'PONG',
        service,
        15_000,
        `Redis cluster node ${port}`,
        logFile,
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    for (const port of ports) {
      await waitUntil(
        async () => /cluster_state:ok/.test((await cli(port, 'cluster', 'info')).stdout),
        null,
        30_000,
        `cluster_state:ok on ${port}`,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, url: `redis://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`, stop };
}

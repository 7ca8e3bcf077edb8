import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type supertest from 'supertest';
import { createApiKey } from '../../src/domain/projects/projects.ts';

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Deterministic bytes that look like a dump: noise in every other 4 KiB page, zeros between (compressible, not trivially). */
export function dumpBytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if (((i >> 12) & 1) === 0) out.writeUInt32LE(x >>> 0, i);
  }
  return out;
}

/** Every regular file under a folder (recursively), as paths relative to it. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

export async function dumpRows(ds: DataSource, projectId: number): Promise<Array<{ id: string; archived: boolean }>> {
  return ds.query(`SELECT id, archived FROM crash_dumps WHERE project_id = $1 ORDER BY "time"`, [projectId]);
}

/** A key with the dumps:upload scope, and a machine token traded for it (seed 4's client-token flow). */
export async function uploadCredentials(ds: DataSource, http: ReturnType<typeof supertest>, projectId: number) {
  const { key, secret } = await createApiKey(ds.manager, projectId, { name: 'uploader', scopes: ['dumps:upload'], createdById: null });
  const res = await http.post('/api/auth/client-token/').send({ client_secret: secret });
  if (res.status !== 200) throw new Error(`client-token: ${res.status} ${JSON.stringify(res.body)}`);
  return { keyId: key.id, secret, machine: res.body.access as string };
}

/** supertest response body as a Buffer (downloads are application/octet-stream). */
export function binary(
  res: { on(e: string, cb: (x?: unknown) => void): void; setEncoding(e: string): void },
  cb: (err: Error | null, body: Buffer) => void,
) {
  const chunks: Buffer[] = [];
  res.on('data', (c) => chunks.push(c as Buffer));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

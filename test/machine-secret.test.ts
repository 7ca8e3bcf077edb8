/**
 * Seed 4's server-wide machine secret (MACHINE_CLIENT_SECRET + MACHINE_PROJECT). Config
 * is read once at import, so this file sets the variables first and imports the app
 * afterwards (nothing that reads config is imported statically here).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';

const SECRET = `machine-${randomBytes(12).toString('hex')}`;
let projectId: number;
let stack: Awaited<ReturnType<(typeof import('./helpers/stack.ts'))['startWeb']>>;

beforeAll(async () => {
  const db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  const tag = randomBytes(4).toString('hex');
  const u = await db.query(`INSERT INTO users (email, password_hash) VALUES ($1, 'unusable') RETURNING id`, [
    `machine-owner-${tag}@example.com`,
  ]);
  const p = await db.query(`INSERT INTO projects (name, slug, owner_id) VALUES ('Crashes', $1, $2) RETURNING id`, [
    `crashes-${tag}`,
    u.rows[0].id,
  ]);
  await db.end();
  projectId = p.rows[0].id;
  process.env.MACHINE_CLIENT_SECRET = SECRET;
  process.env.MACHINE_PROJECT = String(projectId);
  const { startWeb } = await import('./helpers/stack.ts');
  stack = await startWeb();
});
afterAll(async () => {
  await stack?.web.close();
});

describe('MACHINE_CLIENT_SECRET', () => {
  it('trades for an upload-only token bound to MACHINE_PROJECT', async () => {
    const res = await stack.http.post('/api/auth/client-token/').send({ client_secret: SECRET });
    expect(res.status).toBe(200);
    const claims = JSON.parse(Buffer.from(res.body.access.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ typ: 'machine', pid: projectId, kid: null });
  });

  it('a near miss is refused', async () => {
    expect((await stack.http.post('/api/auth/client-token/').send({ client_secret: `${SECRET}x` })).status).toBe(401);
    expect((await stack.http.post('/api/auth/client-token/').send({ client_secret: SECRET.slice(0, -1) })).status).toBe(401);
  });
});

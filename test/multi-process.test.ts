/**
 * Two web and two worker processes, as `npm run web` / `npm run worker` run them, against
 * one PostgreSQL and one Redis: events ingested through both webs are all stored once,
 * the live tail on either web hears logs stored by either worker, login rate limits,
 * access/refresh tokens and admin sessions hold across webs. Real child processes (the
 * entry points `npm run web` / `npm run worker` run), no in-process shortcuts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import WebSocket from 'ws';
import { pickPort } from '../src/devstack/process.ts';
import { createDataSource } from '../src/db/data-source.ts';
import { PASSWORD, pantiesEvent, uniqueEmail } from './helpers/factories.ts';
import { eventually } from './helpers/stack.ts';

jest.setTimeout(240_000);

const runner = fileURLToPath(new URL('../bin/run.mjs', import.meta.url));
const children: ChildProcess[] = [];
const ds = createDataSource({ url: process.env.DATABASE_URL!, poolSize: 2 });
let webs: string[] = [];

function run(entry: 'web' | 'worker', env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [runner, entry], {
    env: { ...process.env, LOG_LEVEL: 'error', AUTH_RATE_LIMIT_PER_IP: '16', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  await ds.initialize();
  const ports = [await pickPort(), await pickPort()];
  for (const port of ports) run('web', { PORT: String(port), HOST: '127.0.0.1' });
  run('worker', { WORKER_CONCURRENCY: '2' });
  run('worker', { WORKER_CONCURRENCY: '2' });
  webs = ports.map((p) => `http://127.0.0.1:${p}`);
  for (const base of webs) await eventually(async () => (await fetch(`${base}/readyz`)).ok, 120_000, 200);
});

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
  await ds.destroy();
});

const json = async (r: Response) => (await r.json()) as Record<string, any>;
const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function account(base: string) {
  const email = uniqueEmail('multi');
  const reg = await json(await post(base, '/api/auth/register/', { email, password: PASSWORD }));
  const login = await json(await post(base, '/api/auth/login/', { email, password: PASSWORD }));
  return {
    email,
    projectId: reg.project.id as number,
    apiKey: reg.project.api_key as string,
    access: login.access as string,
    refresh: login.refresh as string,
  };
}

describe('two web and two worker processes', () => {
  it('store every event ingested through either web exactly once, with exact issue counters', async () => {
    const a = await account(webs[0]);
    const batches = 40;
    const perBatch = 50;
    const sent = await Promise.all(
      Array.from({ length: batches }, (_, b) =>
        post(
          webs[b % 2],
          '/api/events/',
          Array.from({ length: perBatch }, (_, i) => pantiesEvent({ event_id: `multi-${b}-${i}`, message: 'one issue for all' })),
          { authorization: `Bearer ${a.apiKey}` },
        ).then((r) => r.status),
      ),
    );
    expect(sent.every((s) => s === 202)).toBe(true);
    // Resent batches (a client retry, to the other web) change nothing.
    const retry = await post(webs[1], '/api/events/', [pantiesEvent({ event_id: 'multi-0-0', message: 'one issue for all' })], {
      authorization: `Bearer ${a.apiKey}`,
    });
    expect(retry.status).toBe(202);
    await eventually(
      async () => {
        const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1`, [a.projectId]);
        return n === batches * perBatch;
      },
      120_000,
      200,
    );
    // The one issue counted each event once, whichever worker stored it.
    const [{ times_seen }] = await ds.query(`SELECT times_seen::int FROM issues WHERE project_id = $1`, [a.projectId]);
    expect(times_seen).toBe(batches * perBatch);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1 AND event_id = 'multi-0-0'`, [a.projectId]);
    expect(n).toBe(1);
    // Nothing doubled: as many distinct event ids as rows, and every id sent is there.
    const [{ rows, ids }] = await ds.query(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS ids FROM events WHERE project_id = $1`,
      [a.projectId],
    );
    expect([rows, ids]).toEqual([batches * perBatch, batches * perBatch]);
  });

  it('the live tail on either web hears every log, whichever web took it and whichever worker stored it', async () => {
    const a = await account(webs[0]);
    const sockets = webs.map((base) => new WebSocket(`${base.replace('http:', 'ws:')}/ws/logs/?token=${a.access}`));
    const received: Array<Array<{ type: string; log?: { message: string } }>> = sockets.map(() => []);
    sockets.forEach((ws, i) => ws.on('message', (d) => received[i].push(JSON.parse(d.toString()))));
    try {
      await eventually(async () => received.every((r) => r.some((m) => m.type === 'connection_established')));
      const messages = Array.from({ length: 20 }, (_, i) => `through web ${i % 2}, log ${i}`);
      const statuses = await Promise.all(
        messages.map((m, i) =>
          post(webs[i % 2], '/api/logs/', { message: m, severity: 'INFO' }, { authorization: `Bearer ${a.access}` }).then((r) => r.status),
        ),
      );
      expect(statuses.every((s) => s === 202)).toBe(true);
      await eventually(async () => received.every((r) => messages.every((m) => r.some((x) => x.log?.message === m))), 60_000);
      // Each log once per socket: both workers compete for jobs, neither re-announces the other's rows.
      for (const r of received) expect(r.filter((x) => x.type === 'log_created')).toHaveLength(messages.length);
    } finally {
      sockets.forEach((ws) => ws.terminate());
    }
  });

  it('an access token and a refresh token from one web are valid on the other', async () => {
    const a = await account(webs[0]);
    const me = await fetch(`${webs[1]}/api/auth/user/`, { headers: { authorization: `Bearer ${a.access}` } });
    expect(me.status).toBe(200);
    expect((await json(me)).email).toBe(a.email);
    // Refresh tokens are rows in PostgreSQL: spent on the other web, rotated there.
    const refreshed = await post(webs[1], '/api/auth/refresh/', { refresh: a.refresh });
    expect(refreshed.status).toBe(200);
    const again = await fetch(`${webs[0]}/api/auth/user/`, { headers: { authorization: `Bearer ${(await json(refreshed)).access}` } });
    expect(again.status).toBe(200);
  });

  it('an admin session started on one web is valid on both (sessions live in Redis)', async () => {
    const a = await account(webs[0]);
    const login = await fetch(`${webs[0]}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: webs[0] },
      body: new URLSearchParams({ email: a.email, password: PASSWORD }),
      redirect: 'manual',
    });
    expect([login.status, login.headers.get('location')]).toEqual([302, '/admin']);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    for (const base of [webs[1], webs[0]]) {
      const list = await fetch(`${base}/admin/api/resources/Project/actions/list`, {
        headers: { cookie, accept: 'application/json' },
        redirect: 'manual',
      });
      expect(list.status).toBe(200);
      const body = (await list.json()) as { records: Array<{ params: { id: number } }> };
      expect(body.records.map((r) => r.params.id)).toContain(a.projectId);
    }
    // Signed out on the other web: the session is gone for both.
    const logout = await fetch(`${webs[1]}/admin/logout`, { headers: { cookie }, redirect: 'manual' });
    expect(logout.status).toBeLessThan(400);
    const after = await fetch(`${webs[0]}/admin/api/resources/Project/actions/list`, {
      headers: { cookie, accept: 'application/json' },
      redirect: 'manual',
    });
    expect(after.status).not.toBe(200);
  });

  it('login rate limits are shared: attempts on one web count on the other', async () => {
    // AUTH_RATE_LIMIT_PER_IP=16 in the children; the accounts above used some of this window.
    const email = uniqueEmail('limited');
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await post(webs[i % 2], '/api/auth/login/', { email, password: 'wrong password' })).status);
    expect(statuses).toContain(429);
    const first429 = statuses.indexOf(429);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true); // once limited, on both webs
    expect(new Set(statuses.slice(first429).map((_, i) => (first429 + i) % 2)).size).toBe(2);
  });
});

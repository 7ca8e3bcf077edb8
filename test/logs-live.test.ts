/**
 * The live tail, /ws/logs/ (seed 2), with a real `ws` client: workers publish after
 * commit through Redis, the web process fans out by project and severity.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { LiveTail } from '../src/live/hub.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { addMember, seed2Log } from './helpers/logs.ts';
import { env, eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = (await listen(stack.web)).replace('http:', 'ws:');
  await stack.web.live.ready;
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await worker.close();
  await stack.web.close();
});

interface Received {
  ws: WebSocket;
  messages: Array<{ type: string; log?: Record<string, unknown> }>;
  closed: Promise<{ code: number; reason: string }>;
}

function connect(url: string): Received {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const messages: Received['messages'] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { ws, messages, closed };
}

const established = (c: Received) => eventually(async () => c.messages.find((m) => m.type === 'connection_established'));
const logsOf = (c: Received) => c.messages.filter((m) => m.type === 'log_created').map((m) => m.log!);

/** The handshake's HTTP status when the server refuses the upgrade. */
function refusedWith(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('error', () => undefined);
  });
}

const post = (u: TestUser, body: object) => stack.http.post('/api/logs/').set('Authorization', `Bearer ${u.access}`).send(body);

describe('WebSocket /ws/logs/', () => {
  it('with ?token=, pushes {"type":"log_created","log":{seed 2 shape}} once the log is stored', async () => {
    const u = await createUser(stack.web.ds);
    const c = connect(`${base}/ws/logs/?token=${u.access}`);
    expect(await established(c)).toMatchObject({ projects: [u.personal.id], severity: null });
    expect((await post(u, seed2Log({ message: 'hello live', severity: 'warning', environment: 'production' }))).status).toBe(202);
    const [log] = await eventually(async () => (logsOf(c).length ? logsOf(c) : null));
    const [{ id }] = await stack.web.ds.query(`SELECT id FROM events WHERE project_id = $1`, [u.personal.id]);
    expect(log).toEqual({
      id: Number(id),
      timestamp: '2024-01-01T12:00:00.000Z',
      message: 'hello live',
      severity: 'WARNING',
      source: 'auth_service',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      environment: 'production',
      project: u.personal.id,
      archived: false,
    });
  });

  it('takes the token as the first message, and seed 3 event logs are live too', async () => {
    const u = await createUser(stack.web.ds);
    const c = connect(`${base}/ws/logs`);
    c.ws.on('open', () => c.ws.send(JSON.stringify({ token: u.access })));
    await established(c);
    expect((await stack.http.post('/api/event-log/').send({ api_key: u.apiKey, message: 'from dataidea', level: 'error' })).status).toBe(
      202,
    );
    const logs = await eventually(async () => (logsOf(c).length ? logsOf(c) : null));
    expect(logs[0]).toMatchObject({ message: 'from dataidea', severity: 'ERROR', source: null });
  });

  it('only sends logs of projects the user can see, filtered by ?project= and ?severity=', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Live');
    await addMember(stack.web.ds, project.id, viewer.user.id, 'viewer');
    const all = connect(`${base}/ws/logs/?token=${viewer.access}`);
    const errorsOnly = connect(`${base}/ws/logs/?token=${viewer.access}&project=${project.id}&severity=ERROR,critical`);
    await Promise.all([established(all), established(errorsOnly)]);

    await post(owner, seed2Log({ project: project.id, message: 'shared info', severity: 'INFO' }));
    await post(owner, seed2Log({ project: project.id, message: 'shared error', severity: 'ERROR' }));
    await post(owner, seed2Log({ message: "owner's private log", severity: 'ERROR' })); // owner's personal project
    await eventually(async () => logsOf(all).length === 2 && logsOf(errorsOnly).length === 1);
    // The private log was stored before this last one: a short wait shows it never comes.
    await post(owner, seed2Log({ project: project.id, message: 'last', severity: 'CRITICAL' }));
    await eventually(async () => logsOf(errorsOnly).length === 2);
    expect(logsOf(all).map((l) => l.message)).toEqual(['shared info', 'shared error', 'last']);
    expect(logsOf(errorsOnly).map((l) => l.message)).toEqual(['shared error', 'last']);
  });

  it('refuses a bad token, an expired token and a project you cannot see at the handshake', async () => {
    const u = await createUser(stack.web.ds);
    expect(await refusedWith(`${base}/ws/logs/?token=not-a-jwt`)).toBe(401);
    const expired = await new SignJWT({ typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(u.user.id))
      .setIssuer('faultline')
      .setJti(randomUUID())
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(process.env.JWT_SECRET));
    expect(await refusedWith(`${base}/ws/logs/?token=${expired}`)).toBe(401);
    expect(await refusedWith(`${base}/ws/logs/?token=${u.refresh}`)).toBe(401); // a refresh token is not an access token
    const other = await createUser(stack.web.ds);
    expect(await refusedWith(`${base}/ws/logs/?token=${u.access}&project=${other.personal.id}`)).toBe(404);
    expect(await refusedWith(`${base}/ws/nope/?token=${u.access}`)).toBe(404);
  });

  it('closes with 4001 when the first message brings a bad token', async () => {
    const c = connect(`${base}/ws/logs/`);
    c.ws.on('open', () => c.ws.send(JSON.stringify({ token: 'forged' })));
    expect((await c.closed).code).toBe(4001);
  });
});

describe('slow clients', () => {
  it('a client that stops reading is disconnected once its backlog passes the limit; memory stays bounded', async () => {
    const u = await createUser(stack.web.ds);
    const channel = `test-live-${randomUUID()}`;
    const hub = new LiveTail(stack.web.access, { redisUrl: env().redisUrl, maxBufferedBytes: 64 * 1024, pingIntervalMs: 60_000, channel });
    const server: Server = createServer((_req, res) => res.end());
    hub.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const pub = new Redis(env().redisUrl);
    try {
      await hub.ready;
      const { port } = server.address() as { port: number };
      const c = connect(`ws://127.0.0.1:${port}/ws/logs/?token=${u.access}`);
      await established(c);
      expect(hub.size).toBe(1);
      (c.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stops reading, as a stuck browser tab would

      const log = {
        id: 1,
        timestamp: new Date().toISOString(),
        message: 'x'.repeat(20_000),
        severity: 'INFO',
        source: 's',
        created_at: '',
        updated_at: '',
        environment: null,
        project: u.personal.id,
        archived: false,
      };
      const batch = JSON.stringify({ logs: Array.from({ length: 10 }, () => log) });
      // Far more than loopback socket buffers hold (~200 KB per batch, up to 60 MB in all).
      for (let i = 0; i < 300 && hub.size > 0; i++) {
        await pub.publish(channel, batch);
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
      }
      await eventually(async () => hub.size === 0);
      (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      await c.closed;
    } finally {
      pub.disconnect();
      await hub.close();
      await new Promise((r) => server.close(r));
    }
  });
});

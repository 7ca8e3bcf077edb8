import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { registerAccessNotifier, type AccessChange } from '../domain/accounts/accessChanges.ts';
import { AppError } from '../domain/errors.ts';
import type { Level } from '../domain/levels.ts';
import { parseLevelList } from '../domain/logs/filters.ts';
import type { LogOut } from '../domain/logs/query.ts';
import { scopeAllows, type Access, type Scope } from '../domain/access/index.ts';
import type { User } from '../entities/User.ts';
import { createRedis, producerConnection, type RedisClient } from '../queues/connection.ts';
import { logger } from '../logger.ts';
import { tokenExpiry } from './auth.ts';
import { liveAccessChannel, liveLogsChannel, redisAccessNotifier, type LiveLogBatch } from './channel.ts';

export interface LiveTailOptions {
  redisUrl: string;
  /** A client whose unsent backlog passes this is disconnected (4008): memory stays bounded. */
  maxBufferedBytes: number;
  /**
   * Ping, re-check the token and the visible projects this often: the backstop. Access
   * changes announced on the access channel are re-checked as soon as they are heard.
   */
  pingIntervalMs: number;
  /** Without ?token=, the first message must bring it within this time. */
  authTimeoutMs?: number;
  channel?: string;
  accessChannel?: string;
}

/** Close codes, in the 4000 range applications own (Django Channels clients use the same idea). */
export const CLOSE = { badRequest: 4000, unauthorized: 4001, notFound: 4004, tooSlow: 4008 } as const;

interface Filters {
  projects?: number[];
  levels?: Level[];
}

interface Session {
  token: string;
  user: User;
  filters: Filters;
  scope: Scope;
  levels: Set<string> | null;
  expiresAt: number | null;
  alive: boolean;
  /** The hub's access-change count when authentication began: a change heard meanwhile is re-checked at once. */
  epoch: number;
}
interface Client extends Session {
  ws: WebSocket;
  /**
   * Re-checks under way (they run one after another). Meanwhile the client's frames wait
   * in `held`, then go out only if the re-checked scope still allows their project: a log
   * published just after a membership was removed never reaches the removed member.
   */
  checks: number;
  queue: Promise<void>;
  held: Array<{ project: number; frame: string }>;
  heldBytes: number;
}

const PATH = /^\/ws\/logs\/?$/;

function parseFilters(url: URL): Filters {
  const raw = url.searchParams.get('project');
  const projects = raw
    ?.split(',')
    .filter(Boolean)
    .map((p) => {
      const n = Number(p);
      if (!Number.isSafeInteger(n) || n <= 0 || n >= 2 ** 31) throw new AppError(400, 'invalid_request', `Invalid project "${p}"`);
      return n;
    });
  return {
    projects: projects?.length ? projects : undefined,
    levels: parseLevelList(url.searchParams.get('severity') ?? undefined, 'severity'),
  };
}

/**
 * The live tail, `/ws/logs/` (the logs dashboard): authenticated, project-scoped WebSockets on the
 * web process's HTTP server. One Redis subscription per web process receives what
 * workers committed and fans each log out, serialized once, to the clients that may
 * see its project and asked for its severity.
 */
export class LiveTail {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Set<Client>();
  private readonly sub: RedisClient;
  /** Publishes this process's access changes (a subscribed connection cannot publish). */
  private readonly pub: RedisClient;
  private readonly unregister: () => void;
  private readonly timer: NodeJS.Timeout;
  private readonly channel: string;
  private readonly accessChannel: string;
  private epoch = 0;
  private connectedBefore = false;
  /** Resolves once the Redis subscription is live and access changes can be published. */
  readonly ready: Promise<void>;

  constructor(
    private readonly access: Access,
    private readonly opts: LiveTailOptions,
  ) {
    this.channel = opts.channel ?? liveLogsChannel();
    this.accessChannel = opts.accessChannel ?? liveAccessChannel();
    this.sub = createRedis(opts.redisUrl, 'subscriber', 'faultline-live');
    this.sub.on('error', () => undefined); // reconnects (and resubscribes) on its own
    this.sub.on('message', (channel: string, message: string) =>
      channel === this.accessChannel ? this.accessChanged(message) : this.fanOut(message),
    );
    // Access changes announced while the subscription was down were missed: re-check everyone.
    this.sub.on('ready', () => {
      if (this.connectedBefore) this.recheckAll();
      this.connectedBefore = true;
    });
    // Fails fast: a request that changed access must not hang on a publish (the sweep is the backstop).
    this.pub = producerConnection(opts.redisUrl, 'faultline-live-pub');
    this.pub.on('error', () => undefined);
    this.unregister = registerAccessNotifier(redisAccessNotifier(this.pub, this.accessChannel));
    const published = new Promise<void>((resolve) => (this.pub.status === 'ready' ? resolve() : this.pub.once('ready', () => resolve())));
    this.ready = Promise.all([this.sub.subscribe(this.channel, this.accessChannel), published]).then(
      () => undefined,
      (err) => logger.warn({ err: (err as Error).message }, 'live tail: Redis not ready; retrying on reconnect'),
    );
    this.timer = setInterval(() => void this.sweep(), opts.pingIntervalMs);
    this.timer.unref();
  }

  attach(server: Server): void {
    server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
  }

  get size(): number {
    return this.clients.size;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!PATH.test(url.pathname)) return refuse(socket, new AppError(404, 'not_found', `No WebSocket at ${url.pathname}`));
    let filters: Filters;
    try {
      filters = parseFilters(url);
    } catch (err) {
      return refuse(socket, err);
    }
    const token = url.searchParams.get('token');
    if (token) {
      // A bad token is refused before the upgrade: the handshake answers 401.
      let client: Session;
      try {
        client = await this.authenticate(token, filters);
      } catch (err) {
        return refuse(socket, err);
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.register(ws, client));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.awaitToken(ws, filters));
  }

  /** Browsers cannot set headers on a WebSocket: the token may come as the first message, {"token": "…"}. */
  private awaitToken(ws: WebSocket, filters: Filters): void {
    const timer = setTimeout(() => ws.close(CLOSE.unauthorized, 'Authentication required'), this.opts.authTimeoutMs ?? 10_000);
    ws.once('message', async (data) => {
      clearTimeout(timer);
      let token: unknown;
      try {
        token = (JSON.parse(data.toString()) as { token?: unknown }).token;
      } catch {
        // not JSON: treated as a missing token
      }
      if (typeof token !== 'string' || !token) return ws.close(CLOSE.unauthorized, 'Send {"token": "<access token>"} first');
      try {
        this.register(ws, await this.authenticate(token, filters));
      } catch (err) {
        ws.close(closeCode(err), reason(err));
      }
    });
  }

  /** The same token → user rules as REST (the access module's), then the projects this socket may see. */
  private async authenticate(token: string, filters: Filters): Promise<Session> {
    const epoch = this.epoch;
    const user = await this.access.userFromToken(token);
    const scope = await this.scopeFor(user, filters);
    return {
      token,
      user,
      filters,
      scope,
      levels: filters.levels ? new Set(filters.levels) : null,
      expiresAt: tokenExpiry(token),
      alive: true,
      epoch,
    };
  }

  /** Every project asked for must be visible (404 otherwise, as in REST); none asked: all visible ones. */
  private async scopeFor(user: User, filters: Filters): Promise<Scope> {
    if (!filters.projects) return this.access.scope(user);
    for (const id of filters.projects) await this.access.scope(user, id);
    return { all: false, projectIds: filters.projects };
  }

  private register(ws: WebSocket, session: Session): void {
    const client: Client = { ...session, ws, checks: 0, queue: Promise.resolve(), held: [], heldBytes: 0 };
    if (ws.readyState !== WebSocket.OPEN) return;
    this.clients.add(client);
    ws.on('pong', () => (client.alive = true));
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => ws.terminate());
    ws.send(
      JSON.stringify({
        type: 'connection_established',
        projects: client.scope.all ? 'all' : client.scope.projectIds,
        severity: client.filters.levels?.map((l) => l.toUpperCase()) ?? null,
      }),
    );
    // Access changed while this socket was being authenticated: what was read may be stale.
    if (session.epoch !== this.epoch) void this.recheck(client, true);
  }

  private fanOut(message: string): void {
    if (this.clients.size === 0) return;
    let batch: LiveLogBatch;
    try {
      batch = JSON.parse(message) as LiveLogBatch;
    } catch {
      return;
    }
    // Each log is serialized once, whatever the number of clients.
    const frames = batch.logs.map((log: LogOut) => ({
      project: log.project,
      level: log.severity.toLowerCase(),
      frame: JSON.stringify({ type: 'log_created', log }),
    }));
    for (const c of this.clients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      for (const f of frames) {
        if (c.levels && !c.levels.has(f.level)) continue;
        if (c.checks > 0) {
          // Decided when the re-check is done, against the scope it finds.
          c.held.push(f);
          c.heldBytes += f.frame.length;
          if (c.heldBytes <= this.opts.maxBufferedBytes) continue;
          this.dropSlow(c);
          break;
        }
        if (!scopeAllows(c.scope, f.project)) continue;
        if (!this.send(c, f.frame)) break;
      }
    }
  }

  /** False when the client was too slow and is gone. */
  private send(c: Client, frame: string): boolean {
    if (c.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.dropSlow(c);
      return false;
    }
    c.ws.send(frame);
    return true;
  }

  /** A client that does not read: its backlog is freed at once, and it is told why if it ever reads again. */
  private dropSlow(c: Client): void {
    this.clients.delete(c);
    c.held = [];
    logger.warn({ userId: c.user.id, buffered: c.ws.bufferedAmount }, 'live tail: client too slow, disconnected');
    c.ws.close(CLOSE.tooSlow, 'Client too slow; reconnect');
    c.ws.terminate();
  }

  /** An access change heard on the access channel (from any web process): re-check the sockets it concerns, now. */
  private accessChanged(message: string): void {
    let change: AccessChange;
    try {
      change = JSON.parse(message) as AccessChange;
    } catch {
      return;
    }
    this.epoch++;
    const users = new Set(change.users ?? []);
    const projects = new Set(change.projects ?? []);
    for (const c of this.clients) {
      const concerned = users.has(c.user.id) || (!c.scope.all && c.scope.projectIds.some((p) => projects.has(p)));
      if (concerned) void this.recheck(c, true);
    }
  }

  private recheckAll(): void {
    for (const c of this.clients) void this.recheck(c, false);
  }

  /**
   * Re-checks one socket's token and projects. Frames arriving meanwhile are held (see
   * Client.checks). `failClosed`: after an announced change, a check that cannot be
   * done (database away) closes the socket rather than keep streaming on stale access.
   */
  private recheck(c: Client, failClosed: boolean): Promise<void> {
    c.checks++;
    const run = c.queue.then(() => this.verify(c, failClosed));
    c.queue = run;
    return run.finally(() => {
      if (--c.checks === 0) this.release(c);
    });
  }

  private async verify(c: Client, failClosed: boolean): Promise<void> {
    if (!this.clients.has(c) || c.ws.readyState !== WebSocket.OPEN) return;
    try {
      const user = await this.access.userFromToken(c.token);
      c.scope = await this.scopeFor(user, c.filters);
      c.user = user;
    } catch (err) {
      if (err instanceof AppError || failClosed) return this.end(c, closeCode(err), reason(err));
      logger.warn({ err: (err as Error).message, userId: c.user.id }, 'live tail: re-check failed; retrying at the next sweep');
    }
  }

  private end(c: Client, code: number, why: string): void {
    this.clients.delete(c);
    c.held = [];
    c.ws.close(code, why);
  }

  /** The re-checks are done: held frames go out if the scope they found still allows them. */
  private release(c: Client): void {
    const held = c.held;
    c.held = [];
    c.heldBytes = 0;
    if (!this.clients.has(c) || c.ws.readyState !== WebSocket.OPEN) return;
    for (const f of held) if (scopeAllows(c.scope, f.project) && !this.send(c, f.frame)) return;
  }

  /** Ping (dead peers go), and re-check each token and its projects (expired, deactivated or removed: closed). */
  private async sweep(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.clients].map(async (c) => {
        if (!c.alive) return c.ws.terminate();
        c.alive = false;
        c.ws.ping();
        if (c.expiresAt !== null && c.expiresAt <= now) return this.end(c, CLOSE.unauthorized, 'Token has expired');
        await this.recheck(c, false);
      }),
    );
  }

  async close(): Promise<void> {
    this.unregister();
    clearInterval(this.timer);
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // quit waits for Redis to close the socket, so nothing is left open behind us.
    await Promise.all([this.sub.quit().catch(() => this.sub.disconnect()), this.pub.quit().catch(() => this.pub.disconnect())]);
  }
}

function closeCode(err: unknown): number {
  const status = err instanceof AppError ? err.status : 500;
  return status === 401 || status === 403 ? CLOSE.unauthorized : status === 404 ? CLOSE.notFound : status === 400 ? CLOSE.badRequest : 1011;
}

// Close reasons are limited to 123 bytes.
const reason = (err: unknown) => (err instanceof AppError ? err.message : 'Internal error').slice(0, 120);

function refuse(socket: Duplex, err: unknown): void {
  const e = err instanceof AppError ? err : new AppError(500, 'internal_error', 'Internal server error');
  if (!(err instanceof AppError)) logger.error({ err }, 'live tail: upgrade failed');
  const body = JSON.stringify(e.toJSON());
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

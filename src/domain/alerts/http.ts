import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { config } from '../../config.ts';
import { addressAllowed, guardedLookup, TargetRefused, type TargetPolicy } from './ssrf.ts';

export interface HttpLimits {
  connectTimeoutMs: number;
  timeoutMs: number;
  maxResponseBytes: number;
  policy: TargetPolicy;
}

export const defaultLimits = (): HttpLimits => ({
  connectTimeoutMs: config.alerts.connectTimeoutMs,
  timeoutMs: config.alerts.timeoutMs,
  maxResponseBytes: config.alerts.maxResponseBytes,
  policy: config.alerts.allowPrivateTargets,
});

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The start of the body, at most maxResponseBytes (the rest is never read). */
  body: string;
  /** Where the request actually went. */
  remoteAddress: string | undefined;
}

/** Why a request got no answer: refused by policy, DNS, connect/total timeout, connection error. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly kind: 'refused' | 'dns' | 'timeout' | 'connection',
  ) {
    super(message);
  }
}

/**
 * POSTs a body to an alert receiver, safely: the host is resolved and every address
 * checked (guardedLookup), literal addresses are checked before connecting, the socket's
 * actual peer is checked again on connect; no redirects are followed (node:http never
 * does); connecting and the whole exchange have deadlines; at most maxResponseBytes of
 * the answer are read. A slow or huge receiver costs a bounded time and memory.
 */
export function postBody(
  target: string,
  body: string,
  headers: Record<string, string>,
  limits: HttpLimits = defaultLimits(),
): Promise<HttpAnswer> {
  const url = new URL(target);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !addressAllowed(host, limits.policy))
    return Promise.reject(new HttpFailure(new TargetRefused(host, []).message, 'refused'));
  const client = url.protocol === 'https:' ? https : http;

  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connecting);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(answer!);
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        agent: false, // a fresh connection per attempt: its peer is the address checked just now
        lookup: guardedLookup(limits.policy) as never,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish(null, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            remoteAddress: req.socket?.remoteAddress,
          });
        res.on('data', (chunk: Buffer) => {
          const room = limits.maxResponseBytes - size;
          if (room > 0) chunks.push(chunk.subarray(0, room));
          size += chunk.length;
          if (size >= limits.maxResponseBytes) {
            // Enough: the status is what counts. Stop reading instead of draining 10 MB.
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', (err) => finish(new HttpFailure(`response: ${err.message}`, 'connection')));
      },
    );
    const total = setTimeout(
      () => finish(new HttpFailure(`no complete answer within ${limits.timeoutMs} ms`, 'timeout')),
      limits.timeoutMs,
    );
    const connecting = setTimeout(
      () => finish(new HttpFailure(`could not connect within ${limits.connectTimeoutMs} ms`, 'timeout')),
      limits.connectTimeoutMs,
    );
    req.on('socket', (socket: Socket) => {
      const onConnect = () => {
        clearTimeout(connecting);
        // Belt and braces: the peer the socket is really connected to.
        if (socket.remoteAddress && !addressAllowed(socket.remoteAddress, limits.policy)) {
          finish(new HttpFailure(new TargetRefused(url.hostname, [socket.remoteAddress]).message, 'refused'));
        }
      };
      if (!socket.connecting) onConnect();
      else socket.once('connect', onConnect);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof TargetRefused || err.code === 'ETARGETREFUSED') return finish(new HttpFailure(err.message, 'refused'));
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
        return finish(new HttpFailure(`cannot resolve ${url.hostname} (${err.code})`, 'dns'));
      finish(new HttpFailure(err.message || String(err.code), 'connection'));
    });
    req.end(body);
  });
}

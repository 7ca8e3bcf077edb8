import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
}

type Reply = (res: ServerResponse, req: Received) => void;

/** A real HTTP receiver on loopback that records every request; answers 200 unless told otherwise. */
export async function startReceiver() {
  const requests: Received[] = [];
  const replies: Reply[] = [];
  let fallback: Reply = (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* not JSON */
      }
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
      requests.push(r);
      (replies.shift() ?? fallback)(res, r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    /** The next requests get these answers, in order; then the fallback. */
    reply(...r: Reply[]) {
      replies.push(...r);
    },
    setFallback(r: Reply) {
      fallback = r;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const status =
  (code: number, headers: Record<string, string> = {}, body = ''): Reply =>
  (res) =>
    res.writeHead(code, headers).end(body);

/**
 * The yardstick for `npm run bench`: the least a Node server can do for an ingest POST
 * on this machine. It reads the whole body, JSON.parse's it and answers 202 with an
 * id per event — the same request and response sizes as Faultline's POST /api/events/,
 * with no auth, validation, queue or database.
 *
 * Run as a child process (bench/lib.ts `startBaseline`) so it gets a core of its own,
 * as Faultline's web process does. It listens on an OS-assigned loopback port and
 * reports it over IPC.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const eventId = () => randomBytes(16).toString('hex');

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json; charset=utf-8' }).end('{"error":"Malformed JSON"}');
      return;
    }
    const answer = Array.isArray(body) ? body.map(() => ({ event_id: eventId() })) : { event_id: eventId() };
    const payload = JSON.stringify(answer);
    // Same headers as Faultline's sendJson, so the response bytes match too.
    res.writeHead(202, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(payload) });
    res.end(payload);
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ port });
});

// The bench stops us with SIGTERM (default action: exit); go too if it dies without doing so.
process.on('disconnect', () => process.exit(0));

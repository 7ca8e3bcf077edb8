import type { IncomingMessage } from 'node:http';

/**
 * The client's address as Express's `req.ip` computes it, for the lean ingest path (which
 * runs before Express): the socket's peer, or — while the hop is a trusted proxy
 * (TRUST_PROXY) — the next address leftwards in X-Forwarded-For.
 */
export function clientIpOf(trust: (address: string, hop: number) => boolean) {
  return (req: Pick<IncomingMessage, 'headers' | 'socket'>): string | undefined => {
    let addr = req.socket.remoteAddress;
    if (!addr) return undefined;
    const header = req.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (let hop = 0; trust(addr, hop) && forwarded.length; hop++) addr = forwarded.pop()!;
    return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  };
}

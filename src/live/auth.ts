import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import { currentUser, requireUser } from '../api/middleware/auth.ts';
import type { User } from '../entities/User.ts';

/**
 * Authenticates a WebSocket's token through the very middleware the REST API uses, so
 * the rules (signature, expiry, token type, inactive users) cannot drift apart.
 * Throws the same AppError (401/403) a REST call would get.
 */
export async function userForToken(ds: DataSource, token: string): Promise<User> {
  const req = { headers: { authorization: `Bearer ${token}` } } as unknown as Request;
  await new Promise<void>((resolve, reject) => {
    Promise.resolve(requireUser(ds)(req, {} as Response, (err?: unknown) => (err ? reject(err) : resolve()))).catch(reject);
  });
  return currentUser(req);
}

/** The token's expiry (epoch ms), read after it was verified; null when it has none. */
export function tokenExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

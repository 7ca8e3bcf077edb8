import { randomInt } from 'node:crypto';
import { hashApiKey } from './access/keys.ts';

// The resolver moved into the access module; these names stay for the callers not migrated yet,
// and are the same class (one cache per web process, which revocation invalidates at once).
export { API_KEY_PATTERN, ApiKeyResolver, hashApiKey, type ResolvedKey } from './access/keys.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_PREFIX = 'flk_';

/** `flk_` + 32 base62 characters (~190 bits). The first 8 random characters are the visible prefix. */
export function generateApiKey(): { secret: string; prefix: string; hash: string } {
  let body = '';
  for (let i = 0; i < 32; i++) body += BASE62[randomInt(62)];
  const secret = API_KEY_PREFIX + body;
  return { secret, prefix: secret.slice(0, API_KEY_PREFIX.length + 8), hash: hashApiKey(secret) };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { config } from '../../config.ts';
import type { ApiKeyResolver } from '../apiKeys.ts';
import { forbidden, unauthorized } from '../errors.ts';
import { signMachineToken } from './tokens.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time, whatever the lengths (compares fixed-size digests). */
export const secretsEqual = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/**
 * Seed 4's machine clients trade a secret for a short-lived, upload-only token bound to
 * one project. The secret is an API key with the `dumps:upload` scope, or the global
 * MACHINE_CLIENT_SECRET (for MACHINE_PROJECT) when configured.
 */
export async function machineTokenFor(keys: ApiKeyResolver, secret: string): Promise<string> {
  const global = config.machineClient;
  if (global && secretsEqual(secret, global.secret)) {
    return signMachineToken({ projectId: global.projectId, keyId: null });
  }
  const key = await keys.resolve(secret);
  if (!key) throw unauthorized('Invalid client secret', 'invalid_client_secret');
  if (!key.scopes.includes('dumps:upload')) throw forbidden('This key lacks the dumps:upload scope', 'scope_missing');
  return signMachineToken({ projectId: key.projectId, keyId: key.id });
}

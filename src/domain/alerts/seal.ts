import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { config } from '../../config.ts';

/**
 * Channel URLs (a Slack or Discord webhook URL is itself a credential) and webhook signing
 * secrets must be readable by the sender, so they cannot be hashed: they are sealed with
 * AES-256-GCM under a key derived from ALERT_SECRETS_KEY (default: JWT_SECRET), so a
 * database dump alone does not reveal them. Format: v1.<iv>.<tag>.<ciphertext>, base64url.
 */
let cachedKey: { source: string; key: Buffer } | null = null;

function keyFor(source: string): Buffer {
  if (cachedKey?.source !== source) {
    cachedKey = { source, key: Buffer.from(hkdfSync('sha256', source, 'faultline', 'alert-channel-secrets', 32)) };
  }
  return cachedKey.key;
}

export function seal(value: unknown, secret = config.alerts.secretsKey): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function unseal<T>(sealed: string, secret = config.alerts.secretsKey): T {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unknown sealed format');
  const decipher = createDecipheriv('aes-256-gcm', keyFor(secret), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  return JSON.parse(text) as T;
}

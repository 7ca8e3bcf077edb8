/** The audit log's redaction rules (src/domain/audit/record.ts), without a database. */
import { describe, expect, it } from '@jest/globals';
import { diff, isSecretField, redactValue, REDACTED } from '../src/domain/audit/index.ts';

describe('audit redaction', () => {
  it('treats secret-looking names as secrets, in snake_case and camelCase', () => {
    for (const name of [
      'password',
      'password_hash',
      'passwordHash',
      'key_hash',
      'keyHash',
      'token',
      'token_hash',
      'secret',
      'signingSecret',
      'api_key',
      'apiKey',
      'authorization',
      'Cookie',
      'session_id',
      'private_key',
      'sealed',
      '__secret',
      'token_version',
      'key',
    ]) {
      expect([name, isSecretField(name)]).toEqual([name, true]);
    }
    for (const name of [
      'name',
      'email',
      'role',
      'status',
      'prefix',
      'scopes',
      'description',
      'project_id',
      'is_active',
      'prompt_tokens',
      'total_tokens',
      'author',
      'monkey',
      'key_prefix',
    ]) {
      expect([name, isSecretField(name)]).toEqual([name, false]);
    }
  });

  it('says that a secret changed, never its value', () => {
    expect(diff({ password_hash: 'old', name: 'a' }, { password_hash: 'new', name: 'b' })).toEqual({
      password_hash: [REDACTED, REDACTED],
      name: ['a', 'b'],
    });
    expect(diff({ key_hash: null }, { key_hash: 'abc' })).toEqual({ key_hash: [null, REDACTED] });
    expect(diff({ password_hash: 'same' }, { password_hash: 'same' })).toEqual({});
  });

  it('redacts secrets nested in JSON and cuts URLs to their host', () => {
    const config = {
      url: 'https://hooks.slack.com/services/T0/B0/secretpart',
      headers: { Authorization: 'Bearer xyz' },
      addresses: ['ops@example.com'],
    };
    expect(redactValue('config', config)).toEqual({
      url: 'https://hooks.slack.com/…',
      headers: { Authorization: REDACTED },
      addresses: ['ops@example.com'],
    });
    expect(redactValue('webhook_url', 'not a url')).toBe(REDACTED);
  });

  it('keeps only the fields asked for, and drops bookkeeping columns', () => {
    expect(diff({ a: 1, b: 2, updated_at: 'x' }, { a: 2, b: 3, updated_at: 'y' }, { fields: ['a', 'updated_at'] })).toEqual({ a: [1, 2] });
    expect(diff(null, { id: 5, name: 'n' })).toEqual({ id: [null, 5], name: [null, 'n'] });
    expect(diff({ id: 5, name: 'n' }, null)).toEqual({ id: [5, null], name: ['n', null] });
  });

  it('cuts long values', () => {
    const long = 'x'.repeat(5000);
    expect(String(redactValue('message', long)).length).toBeLessThan(2100);
  });
});

import { expect } from '@jest/globals';

/**
 * A refused request: the exact status, the stable `code`, and the error body's shape
 * ({"error","code","details"}) — not only "some 4xx". For supertest answers (parsed body).
 */
export function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  const body = (res.body ?? {}) as Record<string, unknown>;
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(typeof body.error).toBe('string');
  expect('details' in body).toBe(true);
}

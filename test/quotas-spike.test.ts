/**
 * Spike protection: a project's minute may hold at most
 * max(QUOTA_SPIKE_FLOOR_PER_MINUTE, QUOTA_SPIKE_MULTIPLIER × its trailing-hour per-minute
 * average). The floor and multiplier are read from config at import, so they are set first;
 * the quotas' clock is pinned so no minute boundary falls inside a test.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

process.env.QUOTA_SPIKE_FLOOR_PER_MINUTE = '5';
process.env.QUOTA_SPIKE_MULTIPLIER = '3';
const { startWeb } = await import('./helpers/stack.ts');
const { createUser, pantiesEvent } = await import('./helpers/factories.ts');

let stack: Awaited<ReturnType<typeof startWeb>>;
// The current minute's start plus a second: every test runs inside one minute, whatever the wall clock does.
const T = Math.floor(Date.now() / 60_000) * 60_000 + 1000;

beforeAll(async () => {
  stack = await startWeb();
  stack.web.quotas.clock = () => T;
});
afterAll(async () => {
  await stack.web.close();
});

const post = (key: string, n = 1) =>
  stack.http
    .post('/api/events/')
    .set('Authorization', `Bearer ${key}`)
    .send(n === 1 ? pantiesEvent() : Array.from({ length: n }, () => pantiesEvent()));

describe('spike protection (on by default)', () => {
  it('limits a project with no history to the floor, until the next minute', async () => {
    const u = await createUser(stack.web.ds);
    for (let i = 0; i < 5; i++) await post(u.apiKey).expect(202);
    const refused = await post(u.apiKey).expect(429);
    expect(refused.body.details).toMatchObject({ category: 'error', reason: 'spike_protection', scope: 'project' });
    expect(Number(refused.headers['retry-after'])).toBe(59); // the rest of the minute
    stack.web.quotas.clock = () => T + 60_000;
    try {
      await post(u.apiKey).expect(202);
    } finally {
      stack.web.quotas.clock = () => T;
    }
  });

  it("allows multiplier × the trailing hour's per-minute average, above the floor", async () => {
    const u = await createUser(stack.web.ds);
    // An hour at 20 events a minute: baseline 20, so this minute may hold 3 × 20 = 60.
    for (let m = 1; m <= 60; m++) {
      stack.web.quotas.clock = () => T - m * 60_000;
      await stack.web.quotas.charge({ projectId: u.personal.id }, 'error', 20);
    }
    stack.web.quotas.clock = () => T;
    await post(u.apiKey, 50).expect(202);
    await post(u.apiKey, 10).expect(202);
    const refused = await post(u.apiKey).expect(429);
    expect(refused.body.details.reason).toBe('spike_protection');
  });

  it('older history than an hour does not count', async () => {
    const u = await createUser(stack.web.ds);
    stack.web.quotas.clock = () => T - 61 * 60_000;
    await stack.web.quotas.charge({ projectId: u.personal.id }, 'error', 10_000);
    stack.web.quotas.clock = () => T;
    await post(u.apiKey, 5).expect(202);
    await post(u.apiKey).expect(429);
  });

  it('can be turned off per project', async () => {
    const u = await createUser(stack.web.ds);
    await post(u.apiKey, 5).expect(202);
    await post(u.apiKey).expect(429);
    await stack.http
      .put(`/api/projects/${u.personal.id}/quotas/`)
      .set('Authorization', `Bearer ${u.access}`)
      .send({ project: { spike_protection: false } })
      .expect(200);
    await post(u.apiKey, 20).expect(202);
  });

  it('watches each category apart: logs are not refused for an errors spike', async () => {
    const u = await createUser(stack.web.ds);
    await post(u.apiKey, 5).expect(202);
    await post(u.apiKey).expect(429);
    await stack.http
      .post('/api/event-log/')
      .send({ api_key: u.apiKey, event_type: 'page_view', message: 'still fine', level: 'info' })
      .expect(202);
  });
});

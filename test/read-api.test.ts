import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import { pantiesToRecord, PantiesEventSchema } from '../src/domain/ingest/formats/panties.ts';
import { logger } from '../src/logger.ts';
import { storeEventsProcessor } from '../src/workers/storeEvents.ts';
import { startWeb } from './helpers/stack.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let owner: TestUser;

/** Stores events straight through the worker's processor (the queue path is covered elsewhere). */
async function store(projectId: number, events: Array<Record<string, unknown>>) {
  const items = events.map((e) => pantiesToRecord(PantiesEventSchema.parse(pantiesEvent(e)), projectId, new Date().toISOString()));
  await storeEventsProcessor(stack.web.ds, logger)({ id: 't', data: { items } } as unknown as Job);
}

beforeAll(async () => {
  stack = await startWeb();
  owner = await createUser(stack.web.ds);
  const base = Date.UTC(2025, 0, 1) / 1000;
  await store(owner.personal.id, [
    ...Array.from({ length: 25 }, (_, i) => ({
      event_id: `e${i}`,
      message: `request ${i} failed`,
      timestamp: base + i,
      level: 'error',
      environment: 'production',
    })),
    {
      event_id: 'k1',
      exception_type: 'KeyError',
      message: "missing 'user'",
      timestamp: base + 100,
      level: 'warning',
      environment: 'staging',
    },
    {
      event_id: 'k2',
      exception_type: 'TimeoutError',
      message: 'upstream 50% slower',
      timestamp: base + 101,
      level: 'critical',
      environment: 'production',
    },
  ]);
});
afterAll(async () => {
  await stack.web.close();
});

const list = (query: string, token = owner.access) =>
  stack.http.get(`/api/projects/${owner.personal.id}/events/${query}`).set('Authorization', `Bearer ${token}`);

describe('GET /api/projects/{id}/events/', () => {
  it('lists newest first with DRF-style pagination links', async () => {
    const res = await list('?page_size=10');
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(27);
    expect(res.body.results.map((e: { event_id: string }) => e.event_id).slice(0, 3)).toEqual(['k2', 'k1', 'e24']);
    expect(res.body.previous).toBeNull();
    expect(res.body.next).toMatch(/\/api\/projects\/\d+\/events\/\?page_size=10&page=2$/);

    const page3 = await list('?page_size=10&page=3');
    expect(page3.body.results).toHaveLength(7);
    expect(page3.body.next).toBeNull();
    expect(page3.body.previous).toMatch(/page=2/);
  });

  it('walks deep pages with a cursor, seeing every event exactly once', async () => {
    const seen: string[] = [];
    let url: string | null = `/api/projects/${owner.personal.id}/events/?page_size=6&cursor=`;
    while (url) {
      const res: { status: number; body: { results: Array<{ event_id: string }>; next: string | null } } = await stack.http
        .get(url)
        .set('Authorization', `Bearer ${owner.access}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.results.map((e: { event_id: string }) => e.event_id));
      url = res.body.next ? new URL(res.body.next).pathname + new URL(res.body.next).search : null;
    }
    expect(seen).toHaveLength(27);
    expect(new Set(seen).size).toBe(27);
  });

  it('filters by search over message and exception type, level list and environment', async () => {
    expect((await list('?search=keyerror')).body.results.map((e: { event_id: string }) => e.event_id)).toEqual(['k1']);
    expect((await list('?search=request 1')).body.count).toBe(11); // "request 1" and "request 10".."request 19"
    expect((await list('?search=50%25')).body.results.map((e: { event_id: string }) => e.event_id)).toEqual(['k2']); // % is literal
    expect((await list('?level=warning,critical')).body.count).toBe(2);
    expect((await list('?level=FATAL')).body.results.map((e: { event_id: string }) => e.event_id)).toEqual(['k2']);
    expect((await list('?environment=staging')).body.count).toBe(1);
    expect((await list('?environment=production&level=error')).body.count).toBe(25);
  });

  it('refuses bad query parameters with 400', async () => {
    expectError(await list('?page_size=1001'), 400, 'validation_error');
    expectError(await list('?page=0'), 400, 'validation_error');
    expect((await list('?level=loud')).status).toBe(400);
    const badCursor = await list('?cursor=not-a-cursor');
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.code).toBe('invalid_cursor');
  });
});

describe('tenancy', () => {
  it('another user gets 404 for a project they are not in, exactly as for one that does not exist', async () => {
    const stranger = await createUser(stack.web.ds);
    const theirs = await list('', stranger.access);
    const missing = await stack.http.get('/api/projects/2147483647/events/').set('Authorization', `Bearer ${stranger.access}`);
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(theirs.body).toEqual(missing.body);
    expect(JSON.stringify(theirs.body)).not.toContain('request');
  });

  it('a project member sees it; staff see it', async () => {
    const member = await createUser(stack.web.ds);
    await stack.web.ds.query(`INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, 'viewer')`, [
      owner.personal.id,
      member.user.id,
    ]);
    expect((await list('?page_size=1', member.access)).body.count).toBe(27);
    const staff = await createUser(stack.web.ds, { isStaff: true });
    expect((await list('?page_size=1', staff.access)).status).toBe(200);
  });

  it('without a token it is 401 in the seed error shape', async () => {
    const res = await stack.http.get(`/api/projects/${owner.personal.id}/events/`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'Authentication required',
      code: 'authentication_required',
      details: 'Valid JWT token must be provided',
    });
  });

  it('an API key is not a user token', async () => {
    expect((await list('', owner.apiKey)).status).toBe(401);
  });
});

/**
 * The read side of logs (seeds 2, 3, 5): filters, ordering, pagination, one log's
 * get/put/patch/delete with roles, tenancy, CSV export, and the stats function.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { logStats } from '../src/domain/logs/stats.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { addMember, storeLogs } from './helpers/logs.ts';
import { startWeb } from './helpers/stack.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let owner: TestUser;
let viewer: TestUser;
let member: TestUser;
let stranger: TestUser;
let projectId: number;
let otherId: number;

const day = (d: number, h = 12) => `2025-01-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00Z`;

beforeAll(async () => {
  stack = await startWeb();
  const ds = stack.web.ds;
  [owner, viewer, member, stranger] = await Promise.all([createUser(ds), createUser(ds), createUser(ds), createUser(ds)]);
  projectId = (await createProjectWithKey(ds, owner.user, 'Logs')).project.id;
  otherId = (await createProjectWithKey(ds, owner.user, 'Other')).project.id;
  await addMember(ds, projectId, viewer.user.id, 'viewer');
  await addMember(ds, projectId, member.user.id, 'member');
  await storeLogs(ds, projectId, [
    ...Array.from({ length: 20 }, (_, i) => ({
      event_id: `info-${i}`,
      message: `request ${i} served`,
      severity: 'INFO',
      source: 'webapp',
      environment: 'production',
      timestamp: day(1, i),
    })),
    {
      event_id: 'w1',
      message: 'High memory usage detected - Memory: 485MB',
      severity: 'WARNING',
      source: 'api_gateway',
      environment: 'staging',
      timestamp: day(2),
    },
    {
      event_id: 'e1',
      message: 'Database connection failed',
      severity: 'ERROR',
      source: 'database_service',
      environment: 'production',
      timestamp: day(3),
    },
    {
      event_id: 'c1',
      message: 'System out of memory',
      severity: 'CRITICAL',
      source: 'database_service',
      environment: 'production',
      timestamp: day(4),
    },
    {
      event_id: 'd1',
      message: 'Cache lookup 50% slower',
      severity: 'DEBUG',
      source: 'cache_service',
      environment: 'development',
      timestamp: day(5),
    },
  ]);
  await storeLogs(ds, otherId, [{ event_id: 'o1', message: 'other project', severity: 'ERROR', source: 'webapp', timestamp: day(6) }]);
  // An error event is not a log: it must never show up here.
  await ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", received_at, level, message, origin) VALUES ($1, 'err', 'error', now(), now(), 'error', 'an error event', 'panties')`,
    [projectId],
  );
});
afterAll(async () => {
  await stack.web.close();
});

const get = (path: string, who: TestUser = owner) => stack.http.get(path).set('Authorization', `Bearer ${who.access}`);
const messages = (res: { body: { results: Array<{ message: string }> } }) => res.body.results.map((r) => r.message);

describe('GET /api/logs/ filters (seed 2) and /v1/api/logs/ (seed 5)', () => {
  const list = (query: string, who?: TestUser) => get(`/api/logs/?project=${projectId}&${query}`, who);

  it('lists newest first in seed 2 shape; without project, every visible project', async () => {
    const res = await list('page_size=2');
    expect(res.body.count).toBe(24);
    expect(messages(res)).toEqual(['Cache lookup 50% slower', 'System out of memory']);
    expect(res.body.results[0]).toMatchObject({
      severity: 'DEBUG',
      source: 'cache_service',
      environment: 'development',
      project: projectId,
      archived: false,
    });
    expect((await get('/api/logs/?page_size=1')).body.count).toBe(25); // both of owner's projects
    expect((await get('/api/logs/?page_size=1', viewer)).body.count).toBe(24); // viewer: one project
    expect((await get('/api/logs/', stranger)).body).toEqual({ count: 0, next: null, previous: null, results: [] });
  });

  it('filters by severity (one or a comma list, any case), source, env/environment and archived', async () => {
    expect(messages(await list('severity=ERROR'))).toEqual(['Database connection failed']);
    expect((await list('severity=error,Critical')).body.count).toBe(2);
    expect((await list('source=database_service')).body.count).toBe(2);
    expect((await list('env=staging')).body.count).toBe(1);
    expect((await list('env=PRODUCTION')).body.count).toBe(22); // seed 5: env__iexact
    expect((await list('environment=Staging')).body.count).toBe(1);
    expect((await list('environment=production')).body.count).toBe(22);
    expect((await list('archived=false')).body.count).toBe(24);
    expect((await list('archived=true')).body.count).toBe(0);
    expectError(await list('severity=LOUD'), 400, 'invalid_request');
  });

  it('filters by date_from / date_to (date-times, or whole days)', async () => {
    expect((await list(`date_from=2025-01-02T00:00:00Z&date_to=2025-01-04T12:00:00Z`)).body.count).toBe(3);
    expect((await list('date_from=2025-01-03&date_to=2025-01-04')).body.count).toBe(2);
    expect((await list('date_to=2025-01-01')).body.count).toBe(20);
    expectError(await list('date_from=yesterday'), 400, 'invalid_request');
  });

  it('searches message and source; each term must match; field restricts it (seed 5)', async () => {
    expect((await list('search=memory')).body.count).toBe(2);
    expect(messages(await list('search=memory system'))).toEqual(['System out of memory']);
    expect((await list('search=database_service')).body.count).toBe(2); // source matches too
    expect((await list('search=database&field=message')).body.count).toBe(1);
    expect((await list('search=database&field=source')).body.count).toBe(2);
    expect(messages(await list('search=critical&field=severity'))).toEqual(['System out of memory']);
    expect(messages(await list('search=50%25'))).toEqual(['Cache lookup 50% slower']); // % is literal
    expectError(await list('search=x&field=nope'), 400, 'invalid_request');
  });

  it('orders by ordering (seed 5), severity by rank', async () => {
    expect(messages(await list('ordering=-severity&page_size=2'))).toEqual(['System out of memory', 'Database connection failed']);
    expect(messages(await list('ordering=severity&page_size=1'))).toEqual(['Cache lookup 50% slower']);
    expect(messages(await list('ordering=timestamp&page_size=1'))).toEqual(['request 0 served']);
    expect((await list('ordering=source,-timestamp&page_size=1')).body.results[0].source).toBe('api_gateway');
    expectError(await list('ordering=password'), 400, 'invalid_request');
  });

  it('pages through ordering=-severity consistently: page 2 continues page 1', async () => {
    const all = (await list('ordering=-severity&page_size=30')).body.results.map((r: { id: number }) => r.id);
    const p1 = (await list('ordering=-severity&page_size=4')).body.results.map((r: { id: number }) => r.id);
    const p2 = (await list('ordering=-severity&page_size=4&page=2')).body.results.map((r: { id: number }) => r.id);
    expect([...p1, ...p2]).toEqual(all.slice(0, 8));
    expect((await list('ordering=-severity&severity=INFO&page_size=1')).body.results[0].message).toBe('request 19 served'); // newest first within a severity
  });

  it('pages with page/page_size and walks deep pages with a cursor, each log exactly once', async () => {
    const p2 = await list('page_size=10&page=2');
    expect(p2.body.results).toHaveLength(10);
    expect(p2.body.next).toMatch(/page=3/);
    expect(p2.body.previous).toMatch(/page_size=10/);
    const seen: number[] = [];
    let url: string | null = `/api/logs/?project=${projectId}&page_size=7&cursor=`;
    while (url) {
      const res = await get(url);
      expect(res.status).toBe(200);
      seen.push(...res.body.results.map((r: { id: number }) => r.id));
      url = res.body.next ? new URL(res.body.next).pathname + new URL(res.body.next).search : null;
    }
    expect(seen).toHaveLength(24);
    expect(new Set(seen).size).toBe(24);
    expect((await list('cursor=&ordering=severity')).body.code).toBe('cursor_unsupported');
  });

  it("answers seed 2's README example query", async () => {
    await storeLogs(stack.web.ds, otherId, [
      { event_id: 'readme', message: 'Webapp error: timeout', severity: 'ERROR', source: 'webapp', timestamp: '2024-06-01T00:00:00Z' },
    ]);
    const res = await get(
      '/api/logs/?search=error&severity=ERROR&source=webapp&date_from=2024-01-01T00:00:00Z&date_to=2024-12-31T23:59:59Z',
    );
    expect(res.status).toBe(200);
    expect(messages(res)).toEqual(['Webapp error: timeout']);
  });

  it('seed 5 path answers the same; a project you cannot see is 404', async () => {
    const v1 = await get(`/v1/api/logs/?project=${projectId}&env=production&ordering=-timestamp&field=message&search=database`);
    expect(messages(v1)).toEqual(['Database connection failed']);
    expect((await list('', stranger)).status).toBe(404);
  });
});

describe('one log: GET/PUT/PATCH/DELETE /api/logs/{id}/', () => {
  const idOf = async (eventId: string): Promise<number> =>
    Number((await stack.web.ds.query(`SELECT id FROM events WHERE event_id = $1 AND project_id = $2`, [eventId, projectId]))[0].id);

  it('any role reads it; another project or an error event is 404', async () => {
    const id = await idOf('w1');
    const res = await get(`/api/logs/${id}/`, viewer);
    expect(res.body).toMatchObject({ id, severity: 'WARNING', source: 'api_gateway', message: expect.stringContaining('High memory') });
    expect((await get(`/api/logs/${id}/`, stranger)).status).toBe(404);
    expect((await get(`/v1/api/logs/${await idOf('err')}/`)).status).toBe(404);
    expect((await get('/api/logs/999999999/')).status).toBe(404);
  });

  it('seed 5 archives with PATCH {"archived": true}; viewers cannot change anything', async () => {
    const id = await idOf('e1');
    const denied = await stack.http.patch(`/v1/api/logs/${id}/`).set('Authorization', `Bearer ${viewer.access}`).send({ archived: true });
    expect(denied.status).toBe(403);
    expect((await stack.http.delete(`/api/logs/${id}/`).set('Authorization', `Bearer ${viewer.access}`)).status).toBe(403);
    expect(
      (await stack.http.patch(`/api/logs/${id}/`).set('Authorization', `Bearer ${stranger.access}`).send({ archived: true })).status,
    ).toBe(404);

    const res = await stack.http.patch(`/v1/api/logs/${id}/`).set('Authorization', `JWT ${member.access}`).send({ archived: true });
    expect(res.status).toBe(200);
    expect(res.body.archived).toBe(true);
    expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(res.body.created_at));
    expect((await get(`/api/logs/?project=${projectId}&archived=true`)).body.results.map((r: { id: number }) => r.id)).toEqual([id]);
  });

  it('seed 5 archives with a PATCH without a body on /v1/; on /api/logs/ an empty PATCH changes nothing', async () => {
    const id = await idOf('c1');
    const empty = await stack.http.patch(`/api/logs/${id}/`).set('Authorization', `Bearer ${member.access}`).send({});
    expect(empty.status).toBe(200);
    expect(empty.body.archived).toBe(false);
    expect((await stack.http.patch(`/v1/api/logs/${id}`).set('Authorization', `JWT ${viewer.access}`)).status).toBe(403);
    const res = await stack.http.patch(`/v1/api/logs/${id}`).set('Authorization', `JWT ${member.access}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, archived: true, message: 'System out of memory' });
    const again = await stack.http.patch(`/v1/api/logs/${id}/`).set('Authorization', `JWT ${member.access}`).send({});
    expect(again.body.archived).toBe(true);
    await stack.http.patch(`/api/logs/${id}/`).set('Authorization', `Bearer ${member.access}`).send({ archived: false }).expect(200);
  });

  it('PUT replaces the editable fields and needs message and severity; unknown fields are 400', async () => {
    const id = await idOf('d1');
    const put = (body: object) => stack.http.put(`/api/logs/${id}/`).set('Authorization', `Bearer ${member.access}`).send(body);
    expectError(await put({ message: 'only message' }), 400, 'validation_error');
    expect((await put({ message: 'x', severity: 'INFO', project: otherId })).status).toBe(400);
    const res = await put({
      message: 'Cache lookup fixed',
      severity: 'info',
      source: 'cache',
      environment: 'staging',
      timestamp: '2025-01-05T13:00:00Z',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      message: 'Cache lookup fixed',
      severity: 'INFO',
      source: 'cache',
      environment: 'staging',
      timestamp: '2025-01-05T13:00:00.000Z',
    });
  });

  it('DELETE is 204 for a member, then 404', async () => {
    const id = await idOf('info-0');
    expect((await stack.http.delete(`/api/logs/${id}/`).set('Authorization', `Bearer ${member.access}`)).status).toBe(204);
    expect((await get(`/api/logs/${id}/`)).status).toBe(404);
    await storeLogs(stack.web.ds, projectId, [
      {
        event_id: 'info-0-again',
        message: 'request 0 served',
        severity: 'INFO',
        source: 'webapp',
        environment: 'production',
        timestamp: day(1, 0),
      },
    ]);
  });
});

describe('GET /api/logs/export/ (CSV)', () => {
  it('streams a header and one row per matching log, with the list filters', async () => {
    const res = await get(`/api/logs/export/?project=${projectId}&source=database_service`)
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="logs-.*\.csv"$/);
    const rows = parse(res.body as string, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0])).toEqual([
      'id',
      'timestamp',
      'severity',
      'source',
      'message',
      'environment',
      'project',
      'archived',
      'created_at',
      'updated_at',
    ]);
    expect(rows.map((r) => [r.severity, r.message, r.archived])).toEqual([
      ['CRITICAL', 'System out of memory', 'false'],
      ['ERROR', 'Database connection failed', 'true'],
    ]);
    expect(rows[0].timestamp).toBe('2025-01-04T12:00:00.000Z');
  });

  it('quotes commas, quotes and newlines; a stranger exporting a project gets 404, no CSV', async () => {
    await storeLogs(stack.web.ds, otherId, [{ event_id: 'tricky', message: 'a, "quoted"\nsecond line', severity: 'INFO', source: 'x' }]);
    const res = await get(`/api/logs/export/?project=${otherId}&source=x`)
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      });
    expect((parse(res.body as string, { columns: true }) as Array<{ message: string }>)[0].message).toBe('a, "quoted"\nsecond line');
    const denied = await get(`/api/logs/export/?project=${otherId}`, stranger);
    expect(denied.status).toBe(404);
    expect(denied.body.code).toBe('not_found');
  });
});

describe('logStats (for GET /api/user/stats/)', () => {
  it('counts logs by severity, source and day over the visible projects', async () => {
    const scope = await stack.web.access.scope(viewer.user);
    const stats = await logStats(stack.web.ds, scope, { now: new Date('2025-01-10T00:00:00Z'), days: 30 });
    expect(stats.logs.total).toBe(24);
    expect(stats.logs.by_severity).toEqual({ DEBUG: 0, INFO: 21, WARNING: 1, ERROR: 1, CRITICAL: 1 }); // d1 was PUT to INFO above
    expect(stats.logs.by_source[0]).toEqual({ source: 'webapp', count: 20 });
    expect(stats.logs.by_day[0]).toEqual({ date: '2025-01-01', count: 20 });
    expect(stats.llm).toMatchObject({ calls: 0, total_tokens: 0, mean_latency_ms: null, by_model: [] });
  });
});

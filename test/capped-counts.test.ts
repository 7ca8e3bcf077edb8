/**
 * List counts are exact up to 10,000 matches and PostgreSQL's estimate past that
 * (counting every row of a big table is what makes list pages slow): tested with real
 * rows on both sides of the limit, through the API.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EXACT_COUNT_LIMIT } from '../src/domain/pagination.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { startWeb } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let u: TestUser;
const WARNINGS = EXACT_COUNT_LIMIT - 1;
const INFOS = 2_500;

beforeAll(async () => {
  stack = await startWeb();
  u = await createUser(stack.web.ds);
  // Real rows, in one statement: 9,999 warnings and 2,500 infos, a second apart.
  await stack.web.ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin, tags)
     SELECT $1, 'capped-' || g, 'log', now() - g * interval '1 second', CASE WHEN g <= $2::int THEN 'warning' ELSE 'info' END, 'row ' || g, 'test', '{"source":"capped"}'
       FROM generate_series(1, $2::int + $3::int) g`,
    [u.personal.id, WARNINGS, INFOS],
  );
  await stack.web.ds.query('ANALYZE events');
});
afterAll(async () => {
  await stack.web.close();
});

const list = (query: string, pageSize = 10) =>
  stack.http
    .get(`/api/logs/?project=${u.personal.id}&page_size=${pageSize}${query}`)
    .set('Authorization', `Bearer ${u.access}`)
    .expect(200);

describe('capped counts', () => {
  it('is exact below the limit, even one short of it', async () => {
    expect((await list('&severity=WARNING')).body.count).toBe(WARNINGS);
    expect((await list('&severity=INFO')).body.count).toBe(INFOS);
  });

  it('is an estimate past the limit: more than 10,000, in the right range, with a full first page', async () => {
    const res = await list('');
    expect(res.body.count).toBeGreaterThan(EXACT_COUNT_LIMIT);
    // The planner's estimate, not a count: near the truth after ANALYZE, never an exact claim below the limit.
    expect(res.body.count).toBeGreaterThan((WARNINGS + INFOS) / 2);
    expect(res.body.count).toBeLessThan((WARNINGS + INFOS) * 2);
    expect(res.body.results).toHaveLength(10);
    expect(res.body.results[0].message).toBe('row 1'); // newest first
    expect(res.body.next).toEqual(expect.any(String));
  });

  it('the last page of an estimated list is still reachable by following next', async () => {
    // Deep pages go by keyset cursor: following `next` from a late page walks to the end.
    let res = await list('&severity=INFO', 100);
    let seen = res.body.results.length;
    while (res.body.next) {
      res = await stack.http
        .get(new URL(res.body.next).pathname + new URL(res.body.next).search)
        .set('Authorization', `Bearer ${u.access}`)
        .expect(200);
      seen += res.body.results.length;
    }
    expect(seen).toBe(INFOS);
  });
});

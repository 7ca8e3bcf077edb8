/**
 * Responses stay bounded whatever the rows hold (hardening): lists cut big fields in SQL
 * and cap a page by bytes, `next` links still visit every row once, detail routes answer
 * the whole value, the CSV export keeps memory flat with megabyte rows and escapes
 * formula cells, and a failing list query never leaves a promise without a handler.
 *
 * The page byte limit is set small here (before anything reads the configuration) so a
 * few hundred rows make several pages; field limits keep their defaults.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expectError } from './helpers/errors.ts';

process.env.LIST_PAGE_MAX_BYTES = '256kb';
const PAGE_BYTES = 256 * 1024;
const TEXT_CHARS = 4096; // LIST_TEXT_MAX_CHARS's default
const MB = 1 << 20;

const { parse: parseSync } = await import('csv-parse/sync');
const { eventually, listen, startWeb } = await import('./helpers/stack.ts');
const { createProjectWithKey, createUser } = await import('./helpers/factories.ts');
const { addMember } = await import('./helpers/logs.ts');
const { listLogs } = await import('../src/domain/logs/query.ts');
const { listLlmLogs } = await import('../src/domain/logs/llmQuery.ts');
const { listEvents } = await import('../src/domain/events/query.ts');
const { listDumps } = await import('../src/domain/dumps/query.ts');
const { parseOrdering } = await import('../src/domain/logs/filters.ts');
const { loadConfig, ConfigError } = await import('../src/config.ts');
type TestUser = Awaited<ReturnType<typeof createUser>>;

let stack: Awaited<ReturnType<typeof startWeb>>;
let owner: TestUser;
let viewer: TestUser;
let stranger: TestUser;
/** 250 logs with 1 MB messages (and a few small ones). */
let logsProject: number;
/** Event logs with big metadata, LLM logs, error events: one project each kind of row. */
let dataProject: number;
/** The stranger's own project, with rows of every kind (their ids must be 404 to others). */
let strangerProject: number;

const BIG_LOGS = 250;

beforeAll(async () => {
  stack = await startWeb();
  const ds = stack.web.ds;
  [owner, viewer, stranger] = await Promise.all([createUser(ds), createUser(ds), createUser(ds)]);
  logsProject = (await createProjectWithKey(ds, owner.user, 'Big logs')).project.id;
  dataProject = (await createProjectWithKey(ds, owner.user, 'Big data')).project.id;
  strangerProject = stranger.personal.id;
  await addMember(ds, logsProject, viewer.user.id, 'viewer');
  await addMember(ds, dataProject, viewer.user.id, 'viewer');

  // Each message starts with its row number, so a row's full text can be checked.
  await ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, service, origin)
     SELECT $1, 'big-' || g, 'log', '2025-01-01'::timestamptz + g * interval '1 second', (ARRAY['debug','info','warning','error','critical'])[1 + g % 5],
            g || ':' || repeat('x', $2 - length(g || ':')), 'svc-' || (g % 7), 'test'
       FROM generate_series(1, $3) g`,
    [logsProject, MB, BIG_LOGS],
  );
  await ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin)
     SELECT $1, 'small-' || g, 'log', '2025-02-01'::timestamptz + g * interval '1 second', 'info', 'small ' || g, 'test' FROM generate_series(1, 5) g`,
    [logsProject],
  );
  // Event logs whose metadata is ~1 MB of JSON, beside small ones.
  await ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, user_ref, extra, origin)
     SELECT $1, 'el-' || g, 'log', '2025-03-01'::timestamptz + g * interval '1 second', 'info',
            CASE WHEN g % 2 = 0 THEN repeat('m', $2) ELSE 'short ' || g END, 'u1',
            CASE WHEN g % 3 = 0 THEN jsonb_build_object('blob', repeat('j', $2), 'n', g) ELSE jsonb_build_object('n', g) END, 'test'
       FROM generate_series(1, 60) g`,
    [dataProject, MB],
  );
  await ds.query(
    `INSERT INTO llm_logs (project_id, event_id, "timestamp", source, model, query, response, metadata)
     SELECT $1, 'llm-' || g, '2025-03-01'::timestamptz + g * interval '1 second', 'app', 'gpt-4',
            g || ':' || repeat('q', $2 - length(g || ':')), g || ':' || repeat('r', $2 - length(g || ':')),
            CASE WHEN g % 2 = 0 THEN jsonb_build_object('blob', repeat('j', $2)) ELSE jsonb_build_object('tokens', g) END
       FROM generate_series(1, 40) g`,
    [dataProject, MB],
  );
  const [{ id: issueId }] = await ds.query(
    `INSERT INTO issues (project_id, fingerprint, title, level, first_seen, last_seen, times_seen) VALUES ($1, repeat('a', 64), 'Big', 'error', now(), now(), 70) RETURNING id`,
    [dataProject],
  );
  await ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, exception_type, stacktrace, tags, extra, issue_id, origin)
     SELECT $1, 'err-' || g, 'error', '2025-03-01'::timestamptz + g * interval '1 second', 'error', g || ':' || repeat('e', $2 - length(g || ':')), 'ValueError',
            repeat('s', $2 / 4), CASE WHEN g % 2 = 0 THEN jsonb_build_object('t', repeat('t', $2 / 16)) ELSE '{"t":"small"}' END,
            jsonb_build_object('x', repeat('x', $2 / 16)), $3, 'panties'
       FROM generate_series(1, 70) g`,
    [dataProject, MB, issueId],
  );
  // The stranger's rows: same kinds, another project.
  await ds.query(
    `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, origin) VALUES ($1, 's-log', 'log', now(), 'info', 'secret log', 'test'), ($1, 's-err', 'error', now(), 'error', 'secret error', 'panties')`,
    [strangerProject],
  );
  await ds.query(
    `INSERT INTO llm_logs (project_id, event_id, "timestamp", query, response) VALUES ($1, 's-llm', now(), 'secret prompt', 'secret answer')`,
    [strangerProject],
  );
}, 180_000);
afterAll(async () => {
  await stack.web.close();
});

const get = (path: string, who: TestUser = owner) => stack.http.get(path).set('Authorization', `Bearer ${who.access}`);
const relative = (url: string) => new URL(url).pathname + new URL(url).search;

// V8 lets garbage pile up to a few times the live heap before it collects (measured here:
// a flat-memory export of 250 MB still showed +230 MB of RSS, all garbage), so raw RSS
// would measure GC timing. The sampler collects before its baseline and every ~200 ms,
// so the peak it sees is memory the code holds on to. It watches the JS heap too: RSS
// keeps what malloc once took, so a test after a memory-hungry one could look flat.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The process's peak RSS and heap growth (MB) while `fn` runs, sampled every 20 ms (see gc above). */
async function memoryGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; rss: number; heap: number }> {
  gc();
  const before = process.memoryUsage();
  const peak = { rss: before.rss, heap: before.heapUsed };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
  };
  let ticks = 0;
  const timer = setInterval(() => {
    if (++ticks % 10 === 0) gc();
    sample();
  }, 20);
  try {
    const value = await fn();
    sample();
    return { value, rss: (peak.rss - before.rss) / MB, heap: (peak.heap - before.heapUsed) / MB };
  } finally {
    clearInterval(timer);
  }
}

interface Page<T> {
  status: number;
  bytes: number;
  body: { count: number; next: string | null; previous: string | null; results: T[] };
}

/** Follows `next` from `first` to the end; every page must stay within the byte limit. */
async function walk<T>(first: string, who: TestUser = owner): Promise<Array<Page<T>>> {
  const pages: Array<Page<T>> = [];
  let url: string | null = first;
  while (url) {
    const res = await get(url, who);
    expect(res.status).toBe(200);
    const bytes = Number(res.headers['content-length']);
    pages.push({ status: res.status, bytes, body: res.body });
    // A page stops before the item that would pass the limit (its first item always goes).
    expect(bytes).toBeLessThanOrEqual(PAGE_BYTES + 1024);
    url = res.body.next ? relative(res.body.next) : null;
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}

const ids = (pages: Array<Page<{ id: number }>>) => pages.flatMap((p) => p.body.results.map((r) => r.id));

interface ExportedRow {
  id: string;
  length: number;
  head: string;
}

/**
 * Streams the export line by line, keeping only each row's id, message length and head.
 * These rows need no CSV quoting (checked), so a line splits on commas: csv-parse takes
 * seconds per megabyte field, which would turn this into a test of the parser.
 */
function streamExport(base: string, path: string): Promise<{ status: number; header: string; rows: ExportedRow[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers: { authorization: `Bearer ${owner.access}` } }, (res) => {
      const rows: ExportedRow[] = [];
      let header = '';
      let pending: Buffer[] = [];
      const line = (text: string) => {
        if (!header) return void (header = text);
        if (text.includes('"')) return reject(new Error(`a quoted line: ${text.slice(0, 80)}`));
        const cells = text.split(',');
        rows.push({ id: cells[0], length: cells[4].length, head: cells[4].slice(0, 12) });
      };
      res.on('data', (chunk: Buffer) => {
        let start = 0;
        for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
          line(Buffer.concat([...pending, chunk.subarray(start, nl)]).toString('utf8'));
          pending = [];
          start = nl + 1;
        }
        if (start < chunk.length) pending.push(chunk.subarray(start));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, header, rows }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

// First, so that RSS has not been grown by another test's big bodies (on code that builds them).
describe('GET /api/logs/export/ with 1 MB rows', () => {
  it('streams every row with its whole message while the process grows by far less than the data', async () => {
    const base = await listen(stack.web);
    await streamExport(base, `/api/logs/export/?project=${logsProject}&search=small`); // warm
    const { value: out, rss, heap } = await memoryGrowth(() => streamExport(base, `/api/logs/export/?project=${logsProject}`));
    expect(out.status).toBe(200);
    expect(out.header).toBe('id,timestamp,severity,source,message,environment,project,archived,created_at,updated_at');
    // 250 MB of messages: one 1000-row batch used to hold all of them.
    expect(rss).toBeLessThan(100);
    expect(heap).toBeLessThan(100);
    const expected: Array<{ id: string; g: string }> = await stack.web.ds.query(
      `SELECT id::text, split_part(left(message, 12), ':', 1) AS g FROM events WHERE project_id = $1 AND event_id LIKE 'big-%'`,
      [logsProject],
    );
    const byId = new Map(out.rows.map((r) => [r.id, r]));
    expect(out.rows.length).toBe(BIG_LOGS + 5);
    expect(byId.size).toBe(BIG_LOGS + 5);
    for (const { id, g } of expected) {
      expect(byId.get(id)).toEqual({ id, length: MB, head: `${g}:xxxxxxxxxxxx`.slice(0, 12) });
    }

    // A reader that goes away mid-export ends it, and its connection goes back to the pool.
    await new Promise<void>((resolve) => {
      const req = http.get(
        `${base}/api/logs/export/?project=${logsProject}`,
        { headers: { authorization: `Bearer ${owner.access}` } },
        (res) => {
          res.once('data', () => req.destroy());
        },
      );
      req.on('error', () => undefined);
      req.on('close', () => resolve());
    });
    const pool = (stack.web.ds.driver as unknown as { master: { totalCount: number; idleCount: number } }).master;
    await eventually(async () => pool.idleCount === pool.totalCount);
    expect((await streamExport(base, `/api/logs/export/?project=${logsProject}&search=small`)).rows.length).toBe(5);
  }, 180_000);
});

describe('GET /api/logs/ over 1 MB messages', () => {
  it('answers a page_size=1000 page of cut messages, bounded in bytes and in RSS growth; the detail route has them whole', async () => {
    await get(`/api/logs/?project=${logsProject}&page_size=5`); // warm: code paths loaded before measuring
    const { value: res, rss, heap } = await memoryGrowth(() => get(`/api/logs/?project=${logsProject}&page_size=1000`));
    expect(res.status).toBe(200);
    // The whole page as built before: 250 MB of body, +1 GB RSS.
    expect(rss).toBeLessThan(100);
    expect(heap).toBeLessThan(100);
    expect(Number(res.headers['content-length'])).toBeLessThanOrEqual(PAGE_BYTES + 1024);
    const big = res.body.results.filter((r: { message: string }) => /^\d+:x/.test(r.message));
    expect(big.length).toBeGreaterThan(10);
    for (const item of big) {
      expect(item.message.length).toBe(TEXT_CHARS);
      expect(item.message_truncated).toBe(true);
    }
    // Seed 2's shape is kept: fields are only added.
    expect(Object.keys(big[0]).sort()).toEqual(
      [
        'archived',
        'created_at',
        'environment',
        'id',
        'message',
        'message_truncated',
        'project',
        'severity',
        'source',
        'timestamp',
        'updated_at',
      ].sort(),
    );
    const small = res.body.results.find((r: { message: string }) => r.message.startsWith('small'));
    expect(small).toBeDefined();
    expect(small).not.toHaveProperty('message_truncated');
    expect(res.body.count).toBe(BIG_LOGS + 5);
    // The page stopped early: its next link is a cursor continuing after its last item.
    expect(res.body.results.length).toBeLessThan(BIG_LOGS + 5);
    expect(new URL(res.body.next).searchParams.get('cursor')).toBeTruthy();
    expect(new URL(res.body.next).searchParams.get('page')).toBeNull();

    // The whole message is on the detail route, for anyone who can see the project.
    const [{ id }] = await stack.web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND event_id = 'big-7'`, [logsProject]);
    const whole = await get(`/api/logs/${id}/`, viewer);
    expect(whole.status).toBe(200);
    expect(whole.body.message.length).toBe(MB);
    expect(whole.body.message.startsWith('7:xxx')).toBe(true);
    expect(whole.body).not.toHaveProperty('message_truncated');
    expect((await get(`/api/logs/${id}/`, stranger)).status).toBe(404);
  });

  it('following next from a numbered page visits every log exactly once (default and keyset-less orderings)', async () => {
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM events WHERE project_id = $1`, [logsProject]);
    for (const ordering of ['', '&ordering=timestamp', '&ordering=source', '&ordering=-severity']) {
      const pages = await walk<{ id: number }>(`/api/logs/?project=${logsProject}&page_size=1000${ordering}`);
      expect(pages.length).toBeGreaterThan(2);
      const seen = ids(pages);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(n);
    }
    // Cursor mode from the start, and seed 5's path (same router) too.
    const cursorPages = await walk<{ id: number }>(`/v1/api/logs/?project=${logsProject}&page_size=500&cursor=`);
    expect(new Set(ids(cursorPages)).size).toBe(n);
    // Ascending timestamps come out in order across pages.
    const asc = ids(await walk<{ id: number }>(`/api/logs/?project=${logsProject}&page_size=1000&ordering=timestamp`));
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
  });
});

describe('GET /api/event-logs/ and /api/event-logs/{id}/', () => {
  it('cuts messages, leaves 1 MB metadata out (flagged), pages by bytes; the detail route has it all', async () => {
    const pages = await walk<Record<string, unknown> & { id: number; message: string; metadata: Record<string, unknown> }>(
      `/api/event-logs/?project=${dataProject}&page_size=1000`,
      viewer,
    );
    const items = pages.flatMap((p) => p.body.results);
    expect(items.length).toBe(60);
    expect(new Set(items.map((i) => i.id)).size).toBe(60);
    const bigMeta = items.filter((i) => i.metadata_truncated);
    expect(bigMeta.length).toBe(20);
    for (const i of bigMeta) expect(i.metadata).toEqual({});
    const smallMeta = items.find((i) => !i.metadata_truncated)!;
    expect(smallMeta.metadata).toEqual({ n: expect.any(Number) });
    const bigMsg = items.filter((i) => i.message_truncated);
    expect(bigMsg.length).toBe(30);
    for (const i of bigMsg) expect(i.message.length).toBe(TEXT_CHARS);

    const both = items.find((i) => i.message_truncated && i.metadata_truncated)!;
    const whole = await get(`/api/event-logs/${both.id}/`, viewer);
    expect(whole.status).toBe(200);
    expect(whole.body.message.length).toBe(MB);
    expect((whole.body.metadata as { blob: string }).blob.length).toBe(MB);
    expect(whole.body).not.toHaveProperty('message_truncated');
    expect(whole.body).not.toHaveProperty('metadata_truncated');
    expect(Object.keys(whole.body).sort()).toEqual(['id', 'level', 'message', 'metadata', 'project', 'timestamp', 'user_id']);
  });

  it("one event log by id goes through the list's tenancy: another project's is 404, an error event is not a log", async () => {
    const [{ id: theirs }] = await stack.web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND event_id = 's-log'`, [
      strangerProject,
    ]);
    const [{ id: err }] = await stack.web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND event_id = 's-err'`, [strangerProject]);
    expect((await get(`/api/event-logs/${theirs}/`, stranger)).body.message).toBe('secret log');
    const denied = await get(`/api/event-logs/${theirs}/`, owner);
    expect(denied.status).toBe(404);
    expect(Object.keys(denied.body).sort()).toEqual(['code', 'details', 'error']);
    expect((await get(`/api/event-logs/${err}/`, stranger)).status).toBe(404);
    expectError(await get(`/api/event-logs/abc/`, stranger), 400, 'validation_error');
  });
});

describe('GET /api/llm-logs/ and /api/llm-logs/{id}/', () => {
  it('cuts query and response, leaves big metadata out, stays bounded in bytes and RSS; next visits every call once', async () => {
    const {
      value: pages,
      rss,
      heap,
    } = await memoryGrowth(() =>
      walk<Record<string, unknown> & { id: number; query: string; response: string }>(
        `/api/llm-logs/?project=${dataProject}&page_size=100`,
      ),
    );
    // Uncut: 40 × 2 MB of text in one answer.
    expect(rss).toBeLessThan(50);
    expect(heap).toBeLessThan(50);
    expect(pages.length).toBeGreaterThan(1);
    const items = pages.flatMap((p) => p.body.results);
    expect(items.length).toBe(40);
    expect(new Set(items.map((i) => i.id)).size).toBe(40);
    for (const i of items) {
      expect(i.query.length).toBe(TEXT_CHARS);
      expect(i.response.length).toBe(TEXT_CHARS);
      expect(i).toMatchObject({ query_truncated: true, response_truncated: true, model: 'gpt-4' });
    }
    expect(items.filter((i) => i.metadata_truncated).length).toBe(20);

    const whole = await get(`/api/llm-logs/${items[0].id}/`, viewer);
    expect(whole.status).toBe(200);
    expect(whole.body.query.length).toBe(MB);
    expect(whole.body.response.length).toBe(MB);
    const g = whole.body.query.slice(0, whole.body.query.indexOf(':'));
    expect(whole.body.response.startsWith(`${g}:rrr`)).toBe(true);
    expect(whole.body).not.toHaveProperty('query_truncated');
  });

  it("another project's LLM log is 404", async () => {
    const [{ id }] = await stack.web.ds.query(`SELECT id FROM llm_logs WHERE project_id = $1`, [strangerProject]);
    expect((await get(`/api/llm-logs/${id}/`, stranger)).body.query).toBe('secret prompt');
    expect((await get(`/api/llm-logs/${id}/`, owner)).status).toBe(404);
    expect((await get(`/api/llm-logs/${id}/`, viewer)).status).toBe(404);
  });
});

describe('error events: /api/projects/{id}/events/, /api/issues/{id}/events/ and the event detail', () => {
  it('cut message and stack trace, big tags/extra left out; pages by bytes; next visits every event once', async () => {
    const [{ id: issueId }] = await stack.web.ds.query(`SELECT id FROM issues WHERE project_id = $1`, [dataProject]);
    for (const first of [`/api/projects/${dataProject}/events/?page_size=1000`, `/api/issues/${issueId}/events/?page_size=1000`]) {
      const pages = await walk<Record<string, unknown> & { id: number; message: string; stacktrace: string }>(first, viewer);
      expect(pages.length).toBeGreaterThan(1);
      const items = pages.flatMap((p) => p.body.results);
      expect(items.length).toBe(70);
      expect(new Set(items.map((i) => i.id)).size).toBe(70);
      for (const i of items) {
        expect(i).toMatchObject({
          message_truncated: true,
          stacktrace_truncated: true,
          extra_truncated: true,
          extra: {},
          exception_type: 'ValueError',
        });
        expect(i.message.length).toBe(TEXT_CHARS);
        expect(i.stacktrace.length).toBe(TEXT_CHARS);
      }
      expect(items.filter((i) => i.tags_truncated).length).toBe(35);
      expect(items.find((i) => !i.tags_truncated)!.tags).toEqual({ t: 'small' });
    }
  });

  it('GET /api/projects/{id}/events/{event_pk}/ answers the whole event, through the project check', async () => {
    const [{ id }] = await stack.web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND event_id = 'err-2'`, [dataProject]);
    const res = await get(`/api/projects/${dataProject}/events/${id}/`, viewer);
    expect(res.status).toBe(200);
    expect(res.body.message.length).toBe(MB);
    expect(res.body.message.startsWith('2:eee')).toBe(true);
    expect(res.body.stacktrace.length).toBe(MB / 4);
    expect((res.body.tags as { t: string }).t.length).toBe(MB / 16);
    expect((res.body.extra as { x: string }).x.length).toBe(MB / 16);
    expect(res.body).not.toHaveProperty('message_truncated');
    // Not a member: 404. A project you can see, with another project's event id: 404 too.
    expect((await get(`/api/projects/${dataProject}/events/${id}/`, stranger)).status).toBe(404);
    const [{ id: theirs }] = await stack.web.ds.query(`SELECT id FROM events WHERE project_id = $1 AND event_id = 's-err'`, [
      strangerProject,
    ]);
    expect((await get(`/api/projects/${dataProject}/events/${theirs}/`, owner)).status).toBe(404);
    expect((await get(`/api/projects/${strangerProject}/events/${theirs}/`, stranger)).body.message).toBe('secret error');
  });

  it('the detail routes are in the OpenAPI document', async () => {
    const doc = (await stack.http.get('/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    for (const path of ['/api/projects/{id}/events/{event_id}/', '/api/event-logs/{id}/', '/api/llm-logs/{id}/'])
      expect(Object.keys(doc.paths[path] ?? {})).toContain('get');
  });
});

describe('CSV formula injection', () => {
  it("prefixes cells starting with =, +, -, @, tab or CR with ' in the export; other cells are unchanged", async () => {
    const { project } = await createProjectWithKey(stack.web.ds, owner.user, 'Formulas');
    const cells = ['=HYPERLINK("http://evil","x")', '+1+cmd|calc', '-2+3', '@SUM(A1:A2)', '\tTAB', '\rCR', 'plain', 'a=b', ' =not first'];
    await stack.web.ds.query(
      `INSERT INTO events (project_id, event_id, kind, "timestamp", level, message, service, environment, origin)
       SELECT $1, 'f-' || i, 'log', '2025-01-01'::timestamptz + i * interval '1 second', 'info', m, CASE WHEN i = 1 THEN '=svc' ELSE 'svc' END,
              CASE WHEN i = 2 THEN '@env' ELSE 'prod' END, 'test'
         FROM unnest($2::text[]) WITH ORDINALITY AS t(m, i)`,
      [project.id, cells],
    );
    const res = await get(`/api/logs/export/?project=${project.id}&ordering=timestamp`)
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      });
    expect(res.status).toBe(200);
    const rows = parseSync(res.body as string, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.message)).toEqual([
      `'=HYPERLINK("http://evil","x")`,
      `'+1+cmd|calc`,
      `'-2+3`,
      `'@SUM(A1:A2)`,
      `'\tTAB`,
      `'\rCR`,
      'plain',
      'a=b',
      ' =not first',
    ]);
    expect(rows[0].source).toBe(`'=svc`);
    expect(rows[1].environment).toBe(`'@env`);
    expect(rows[2]).toMatchObject({ source: 'svc', environment: 'prod', severity: 'INFO', archived: 'false' });
  });
});

describe('a failing page query never leaves the count promise unhandled', () => {
  // Jest gives each test file a copy of `process`: listen on the real one, where Node reports rejections.
  const realProcess = vm.runInThisContext('process') as NodeJS.Process;

  it('listLogs, listLlmLogs, listEvents and listDumps reject, and no unhandledRejection fires', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    realProcess.on('unhandledRejection', onUnhandled);
    try {
      const ds = stack.web.ds;
      const page = { mode: 'page' as const, page: 1, pageSize: 10 };
      // PostgreSQL refuses a NUL byte in a text parameter: the count and the page both fail.
      const nul = 'a\u0000b';
      await expect(listLogs(ds, { all: true }, { search: nul }, { order: parseOrdering(undefined), page })).rejects.toThrow(/0x00/);
      await expect(
        listLogs(ds, { all: true }, { search: nul }, { order: parseOrdering('-severity'), page, withExtra: true }),
      ).rejects.toThrow(/0x00/);
      await expect(listLlmLogs(ds, { all: true }, { search: nul }, page)).rejects.toThrow(/0x00/);
      await expect(listEvents(ds, { projectId: dataProject, search: nul }, page)).rejects.toThrow(/0x00/);
      await expect(listDumps(ds, { all: true }, { label: nul }, { mode: 'page', page: 1, pageSize: 10 })).rejects.toThrow(/0x00/);
      // Every query has come back (the pool is idle), and Node has had its turn to report.
      const pool = (ds.driver as unknown as { master: { totalCount: number; idleCount: number } }).master;
      await eventually(async () => pool.idleCount === pool.totalCount);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      realProcess.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('configuration', () => {
  it('reads the list and export limits, and refuses limits too small to make progress', () => {
    const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), SESSION_SECRET: 'y'.repeat(40) };
    expect(loadConfig(base)).toMatchObject({
      lists: { textChars: 4096, jsonBytes: 8192, pageBytes: 4 * MB },
      exports: { batchBytes: 4 * MB },
    });
    expect(loadConfig({ ...base, LIST_TEXT_MAX_CHARS: '2048', LIST_PAGE_MAX_BYTES: '8mb', EXPORT_BATCH_BYTES: '1mb' })).toMatchObject({
      lists: { textChars: 2048, pageBytes: 8 * MB },
      exports: { batchBytes: MB },
    });
    expect(() => loadConfig({ ...base, LIST_PAGE_MAX_BYTES: '1kb' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, EXPORT_BATCH_BYTES: '1kb' })).toThrow(/EXPORT_BATCH_BYTES/);
    expect(() => loadConfig({ ...base, LIST_TEXT_MAX_CHARS: 'lots' })).toThrow(/LIST_TEXT_MAX_CHARS/);
  });
});

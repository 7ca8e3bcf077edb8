/**
 * Responses stay bounded whatever the rows hold (hardening): the CSV export keeps memory
 * flat with megabyte rows and escapes formula cells, and a failing list query never
 * leaves a promise without a handler.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';

const MB = 1 << 20;

const { parse: parseSync } = await import('csv-parse/sync');
const { eventually, listen, startWeb } = await import('./helpers/stack.ts');
const { createProjectWithKey, createUser } = await import('./helpers/factories.ts');
const { listLogs } = await import('../src/domain/logs/query.ts');
const { listLlmLogs } = await import('../src/domain/logs/llmQuery.ts');
const { listEvents } = await import('../src/domain/events/query.ts');
const { listDumps } = await import('../src/domain/dumps/query.ts');
const { parseOrdering } = await import('../src/domain/logs/filters.ts');
type TestUser = Awaited<ReturnType<typeof createUser>>;

let stack: Awaited<ReturnType<typeof startWeb>>;
let owner: TestUser;
/** 250 logs with 1 MB messages (and a few small ones). */
let logsProject: number;

const BIG_LOGS = 250;

beforeAll(async () => {
  stack = await startWeb();
  const ds = stack.web.ds;
  owner = await createUser(ds);
  logsProject = (await createProjectWithKey(ds, owner.user, 'Big logs')).project.id;

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
}, 180_000);
afterAll(async () => {
  await stack.web.close();
});

const get = (path: string, who: TestUser = owner) => stack.http.get(path).set('Authorization', `Bearer ${who.access}`);

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
      const req = http.get(`${base}/api/logs/export/?project=${logsProject}`, { headers: { authorization: `Bearer ${owner.access}` } }, (res) => {
        res.once('data', () => req.destroy());
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve());
    });
    const pool = (stack.web.ds.driver as unknown as { master: { totalCount: number; idleCount: number } }).master;
    await eventually(async () => pool.idleCount === pool.totalCount);
    expect((await streamExport(base, `/api/logs/export/?project=${logsProject}&search=small`)).rows.length).toBe(5);
  }, 180_000);
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
    const res = await get(`/api/logs/export/?project=${project.id}&ordering=timestamp`).buffer(true).parse((r, cb) => {
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
      await expect(listLogs(ds, { all: true }, { search: nul }, { order: parseOrdering('-severity'), page, withExtra: true })).rejects.toThrow(/0x00/);
      await expect(listLlmLogs(ds, { all: true }, { search: nul }, page)).rejects.toThrow(/0x00/);
      await expect(listEvents(ds, { projectId: logsProject, search: nul }, page)).rejects.toThrow(/0x00/);
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

/**
 * Issue 18: what was dropped and why. Client reports from the real @sentry/node SDK
 * (after it dropped events by sample rate, before_send, and while backing off a 429),
 * unknown envelope items counted by name, server refusals, and the counts surviving a
 * flush and a restart of the web process. Real HTTP, PostgreSQL and Redis.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as Sentry from '@sentry/node';
import { eventually, listen, startWeb } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { OutcomeRecorder, outcomes } from '../src/domain/outcomes/recorder.ts';
import { createDataSource } from '../src/db/data-source.ts';
import { pruneOutcomes } from '../src/domain/outcomes/retention.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let base: string;

beforeAll(async () => {
  stack = await startWeb();
  base = await listen(stack.web);
});
afterAll(async () => {
  await stack?.web.close();
});

interface Group {
  by: { category: string; outcome: string; reason: string };
  totals: { 'sum(quantity)': number };
  series: { 'sum(quantity)': number[] };
}
const stats = async (u: TestUser, query = '') => {
  const res = await stack.http.get(`/api/projects/${u.personal.id}/stats/outcomes/${query}`).set('Authorization', `Bearer ${u.access}`);
  expect(res.status).toBe(200);
  return res.body as { intervals: string[]; groups: Group[]; totals: { quantity: number; by_outcome: Record<string, number> } };
};
const quantity = (groups: Group[], by: Partial<Group['by']>) =>
  groups
    .filter((g) => Object.entries(by).every(([k, v]) => g.by[k as keyof Group['by']] === v))
    .reduce((n, g) => n + g.totals['sum(quantity)'], 0);
/** Waits until the stats view shows at least `min` for `by`. */
const until = (u: TestUser, by: Partial<Group['by']>, min: number) =>
  eventually(async () => {
    const s = await stats(u);
    return quantity(s.groups, by) >= min ? s : null;
  });

const dsnOf = (u: TestUser, origin = base) => `http://${u.apiKey}@${new URL(origin).host}/${u.personal.id}`;
const sdkOptions = { defaultIntegrations: false as const, enableRuntimeChannelInjection: false, sendClientReports: true };

function envelope(items: Array<[Record<string, unknown>, string]>, header: Record<string, unknown> = {}): string {
  return [JSON.stringify(header), ...items.flatMap(([h, p]) => [JSON.stringify(h), p])].join('\n') + '\n';
}
const post = (u: TestUser, body: string, path = 'envelope') =>
  fetch(`${base}/api/${u.personal.id}/${path}/`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-sentry-envelope', 'X-Sentry-Auth': `Sentry sentry_version=7, sentry_key=${u.apiKey}` },
  });

describe('client reports from @sentry/node', () => {
  it('counts events the SDK dropped by sample rate and by before_send as client discards, per reason and category', async () => {
    const u = await createUser(stack.web.ds);
    Sentry.init({ ...sdkOptions, dsn: dsnOf(u), sampleRate: 0 });
    try {
      for (let i = 0; i < 3; i++) Sentry.captureException(new Error(`sampled out ${i}`));
      expect(await Sentry.flush(5000)).toBe(true);
    } finally {
      await Sentry.close(2000);
    }
    Sentry.init({ ...sdkOptions, dsn: dsnOf(u), beforeSend: () => null });
    try {
      Sentry.captureException(new Error('scrubbed away'));
      Sentry.captureMessage('also gone');
      expect(await Sentry.flush(5000)).toBe(true);
    } finally {
      await Sentry.close(2000);
    }

    const s = await until(u, { outcome: 'client_discard', reason: 'before_send' }, 2);
    expect(quantity(s.groups, { category: 'error', outcome: 'client_discard', reason: 'sample_rate' })).toBe(3);
    expect(quantity(s.groups, { category: 'error', outcome: 'client_discard', reason: 'before_send' })).toBe(2);
    // Nothing was stored, nothing accepted: the SDK sent only its reports.
    expect(quantity(s.groups, { outcome: 'accepted', category: 'error' })).toBe(0);
    expect(s.totals.by_outcome.client_discard).toBe(5);
  });

  it('counts what the SDK dropped while backing off a 429 with X-Sentry-Rate-Limits', async () => {
    const u = await createUser(stack.web.ds);
    // A small real server in front of ours: the first envelope with an event gets 429 and a
    // rate limit on the error category; everything else (the client report) goes through.
    let limited = 0;
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (!limited && body.includes('"type":"event"')) {
          limited++;
          res.writeHead(429, { 'X-Sentry-Rate-Limits': '60:error:project', 'Retry-After': '60' }).end();
          return;
        }
        const target = new URL(req.url ?? '/', base);
        const forward = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      Sentry.init({ ...sdkOptions, dsn: dsnOf(u, origin) });
      try {
        Sentry.captureException(new Error('the one that met the 429'));
        expect(await Sentry.flush(5000)).toBe(true);
        expect(limited).toBe(1);
        // Backing off: these never leave the SDK; it reports them.
        for (let i = 0; i < 4; i++) Sentry.captureException(new Error(`backed off ${i}`));
        expect(await Sentry.flush(5000)).toBe(true);
      } finally {
        await Sentry.close(2000);
      }
    } finally {
      await new Promise((r) => proxy.close(r));
    }
    const s = await until(u, { outcome: 'client_discard', reason: 'ratelimit_backoff' }, 4);
    expect(quantity(s.groups, { category: 'error', outcome: 'client_discard', reason: 'ratelimit_backoff' })).toBe(4);
  });

  it("takes older SDKs' rate_limited_events / filtered_events / filtered_sampling_events lists, and refuses junk quantities", async () => {
    const u = await createUser(stack.web.ds);
    const report = {
      timestamp: Date.now() / 1000,
      rate_limited_events: [{ reason: 'ratelimit_backoff', category: 'transaction', quantity: 7 }],
      filtered_events: [{ reason: 'event_processor', category: 'error', quantity: 2 }],
      filtered_sampling_events: [{ category: 'transaction', quantity: 5 }],
      discarded_events: [
        { reason: 'queue_overflow', category: 'attachment', quantity: 1 },
        { reason: 'sample_rate', category: 'error', quantity: -4 },
        { reason: 'sample_rate', category: 'error', quantity: 'lots' },
      ],
    };
    expect((await post(u, envelope([[{ type: 'client_report' }, JSON.stringify(report)]]))).status).toBe(200);
    const s = await until(u, { outcome: 'client_discard', reason: 'queue_overflow' }, 1);
    expect(quantity(s.groups, { category: 'transaction', reason: 'ratelimit_backoff' })).toBe(7);
    expect(quantity(s.groups, { category: 'error', reason: 'event_processor' })).toBe(2);
    expect(quantity(s.groups, { category: 'transaction', reason: 'sample_rate' })).toBe(5);
    expect(quantity(s.groups, { category: 'error', reason: 'sample_rate' })).toBe(0);
  });
});

describe('nothing dropped silently', () => {
  it('counts every skipped envelope item by its type name, next to what was accepted', async () => {
    const u = await createUser(stack.web.ds);
    const body = envelope([
      [{ type: 'event' }, JSON.stringify({ message: 'kept', level: 'error' })],
      [{ type: 'profile' }, '{}'],
      [{ type: 'replay_event' }, '{}'],
      [{ type: 'replay_recording' }, 'rrweb'],
      [{ type: 'brand_new_thing' }, '{}'],
      [{ type: 'brand_new_thing' }, '{}'],
      [{ type: 'check_in' }, '"not a check-in"'],
    ]);
    expect((await post(u, body)).status).toBe(200);
    const s = await until(u, { reason: 'unsupported_item:brand_new_thing' }, 2);
    expect(quantity(s.groups, { outcome: 'invalid', category: 'profile', reason: 'unsupported_item:profile' })).toBe(1);
    expect(quantity(s.groups, { outcome: 'invalid', category: 'replay', reason: 'unsupported_item:replay_event' })).toBe(1);
    expect(quantity(s.groups, { outcome: 'invalid', category: 'replay', reason: 'unsupported_item:replay_recording' })).toBe(1);
    expect(quantity(s.groups, { outcome: 'invalid', category: 'unknown', reason: 'unsupported_item:brand_new_thing' })).toBe(2);
    expect(quantity(s.groups, { outcome: 'invalid', category: 'monitor', reason: 'invalid_payload' })).toBe(1);
    expect(quantity(s.groups, { outcome: 'accepted', category: 'error' })).toBe(1);
  });

  it("records the server's own refusals where the project is known: a bad key, a too-large event, a body that is no event", async () => {
    const u = await createUser(stack.web.ds);
    const wrongKey = await fetch(`${base}/api/${u.personal.id}/store/`, {
      method: 'POST',
      body: JSON.stringify({ message: 'x' }),
      headers: { 'Content-Type': 'application/json', 'X-Sentry-Auth': 'Sentry sentry_version=7, sentry_key=notarealkey' },
    });
    expect(wrongKey.status).toBe(401);
    const huge = envelope([[{ type: 'event' }, JSON.stringify({ message: 'x'.repeat((1 << 20) + 10) })]]);
    expect((await post(u, huge)).status).toBe(413);
    expect((await post(u, '[1, 2, 3]', 'store')).status).toBe(400);

    const s = await until(u, { outcome: 'invalid', reason: 'payload_too_large' }, 1);
    expect(
      s.groups
        .filter((g) => g.by.outcome === 'invalid')
        .map((g) => g.by.reason)
        .sort(),
    ).toEqual(['invalid_api_key', 'invalid_event', 'payload_too_large']);
    expect(quantity(s.groups, { outcome: 'invalid' })).toBe(3);
  });

  it('records refusals of the other ingest routes under their own category, once the key named the project', async () => {
    const u = await createUser(stack.web.ds);
    const panties = await fetch(`${base}/api/events/`, {
      method: 'POST',
      body: JSON.stringify({ level: 'not-a-level', message: 'x' }),
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${u.apiKey}` },
    });
    expect(panties.status).toBe(400);
    const otlp = await fetch(`${base}/v1/logs`, {
      method: 'POST',
      body: '{"resourceLogs": 7}',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${u.apiKey}` },
    });
    expect(otlp.status).toBe(400);
    const s = await until(u, { category: 'log', outcome: 'invalid' }, 1);
    expect(quantity(s.groups, { category: 'error', outcome: 'invalid', reason: ((await panties.json()) as { code: string }).code })).toBe(
      1,
    );
    expect(quantity(s.groups, { category: 'log', outcome: 'invalid' })).toBe(1);
  });
});

describe('the outcomes view', () => {
  it('answers intervals and a series per group; only members see it', async () => {
    const u = await createUser(stack.web.ds);
    const stranger = await createUser(stack.web.ds);
    const hourAgo = new Date(Date.now() - 3_600_000);
    outcomes.record({ projectId: u.personal.id, category: 'error', outcome: 'filtered', reason: 'localhost', quantity: 2, at: hourAgo });
    outcomes.record({ projectId: u.personal.id, category: 'error', outcome: 'filtered', reason: 'localhost', quantity: 3 });
    const s = await stats(u, `?interval=hour&since=${encodeURIComponent(new Date(Date.now() - 3 * 3_600_000).toISOString())}`);
    expect(s.intervals.length).toBeGreaterThanOrEqual(3);
    const [group] = s.groups;
    expect(group.by).toEqual({ category: 'error', outcome: 'filtered', reason: 'localhost' });
    expect(group.totals['sum(quantity)']).toBe(5);
    expect(group.series['sum(quantity)'].length).toBe(s.intervals.length);
    expect(group.series['sum(quantity)'].slice(-2)).toEqual([2, 3]);
    const byDay = await stats(u, '?interval=day&category=error&outcome=filtered');
    expect(byDay.totals.quantity).toBe(5);
    expect((await stats(u, '?category=transaction')).groups).toEqual([]);

    const hidden = await stack.http.get(`/api/projects/${u.personal.id}/stats/outcomes/`).set('Authorization', `Bearer ${stranger.access}`);
    expect(hidden.status).toBe(404);
    const bad = await stack.http
      .get(`/api/projects/${u.personal.id}/stats/outcomes/?interval=week`)
      .set('Authorization', `Bearer ${u.access}`);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('validation_error');
    const backwards = await stack.http
      .get(`/api/projects/${u.personal.id}/stats/outcomes/?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z`)
      .set('Authorization', `Bearer ${u.access}`);
    expect(backwards.status).toBe(400);
  });
});

describe('counts survive', () => {
  it('a flush, a restart of the web process, and several processes adding to the same hour', async () => {
    const u = await createUser(stack.web.ds);
    const rows = async () =>
      (
        await stack.web.ds.query(`SELECT coalesce(sum(quantity), 0)::int AS n FROM outcomes WHERE project_id = $1 AND reason = 'restart'`, [
          u.personal.id,
        ])
      )[0].n;
    const other = await startWeb();
    const otherBase = await listen(other.web);
    const report = (n: number) =>
      envelope([
        [{ type: 'client_report' }, JSON.stringify({ discarded_events: [{ reason: 'restart', category: 'error', quantity: n }] })],
      ]);
    const send = (origin: string, n: number) =>
      fetch(`${origin}/api/${u.personal.id}/envelope/`, {
        method: 'POST',
        body: report(n),
        headers: { 'X-Sentry-Auth': `Sentry sentry_version=7, sentry_key=${u.apiKey}` },
      });
    expect((await send(otherBase, 4)).status).toBe(200);
    // Closing the web process (SIGTERM's path) writes what it counted before the database goes.
    await other.web.close();
    expect(await rows()).toBe(4);
    expect(outcomes.pendingCount).toBe(0);

    const again = await startWeb();
    try {
      const againBase = await listen(again.web);
      expect((await send(againBase, 5)).status).toBe(200);
      expect((await send(base, 6)).status).toBe(200);
      await outcomes.flush();
      expect(await rows()).toBe(15);
      // One row per hour and reason: processes add to it, they do not write their own.
      const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM outcomes WHERE project_id = $1 AND reason = 'restart'`, [
        u.personal.id,
      ]);
      expect(n).toBe(1);
    } finally {
      await again.web.close();
    }
    expect(await rows()).toBe(15);
  });

  it('a flush PostgreSQL refuses keeps its counts for the next one', async () => {
    const u = await createUser(stack.web.ds);
    // A real refusal: a session where every transaction is read-only.
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('options', '-c default_transaction_read_only=on');
    const readOnly = createDataSource({ url: url.toString(), poolSize: 1 });
    await readOnly.initialize();
    const recorder = new OutcomeRecorder({ flushIntervalMs: 60_000, maxPendingKeys: 100 });
    const at = { projectId: u.personal.id, category: 'error', outcome: 'invalid' as const, reason: 'kept across failure' };
    try {
      recorder.attach(readOnly);
      recorder.record({ ...at, quantity: 2 });
      await expect(recorder.flush()).rejects.toThrow(/read-only/);
      expect(recorder.pendingCount).toBe(1);
      recorder.record({ ...at, quantity: 3 });
      await expect(recorder.detach(readOnly)).rejects.toThrow(/read-only/);
    } finally {
      await readOnly.destroy();
    }
    recorder.attach(stack.web.ds);
    await recorder.detach(stack.web.ds);
    const [{ n }] = await stack.web.ds.query(`SELECT sum(quantity)::int AS n FROM outcomes WHERE project_id = $1 AND reason = $2`, [
      u.personal.id,
      at.reason,
    ]);
    expect(n).toBe(5);
    expect(recorder.pendingCount).toBe(0);
  });

  it('does not count for a project that does not exist (a made-up id in a DSN)', async () => {
    outcomes.record({ projectId: 2_000_000_000, category: 'error', outcome: 'invalid', reason: 'nowhere' });
    await outcomes.flush();
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM outcomes WHERE reason = 'nowhere'`);
    expect(n).toBe(0);
  });
});

describe('retention', () => {
  it('deletes outcome rows past the retention, in batches, and keeps the rest', async () => {
    const u = await createUser(stack.web.ds);
    const day = 86_400_000;
    for (const [age, reason] of [
      [100, 'old-1'],
      [95, 'old-2'],
      [91, 'old-3'],
      [10, 'recent'],
    ] as const) {
      outcomes.record({ projectId: u.personal.id, category: 'error', outcome: 'invalid', reason, at: Date.now() - age * day });
    }
    await outcomes.flush();
    const reasons = async () =>
      (await stack.web.ds.query(`SELECT reason FROM outcomes WHERE project_id = $1 ORDER BY reason`, [u.personal.id])).map(
        (r: { reason: string }) => r.reason,
      );
    expect(await reasons()).toEqual(['old-1', 'old-2', 'old-3', 'recent']);
    expect(await pruneOutcomes(stack.web.ds, 90, 2)).toBeGreaterThanOrEqual(3);
    expect(await reasons()).toEqual(['recent']);
  });
});

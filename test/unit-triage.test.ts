/**
 * Issue 12, the parts that are pure functions: structured Sentry events (exception chain
 * with mechanism, frames with context, logentry params, {{auto}} addresses) and grouping
 * version 2 (anonymous functions, <module>, build hashes, in-app first, versioning).
 */
import { describe, expect, it } from '@jest/globals';
import { formatLogentry, type ExceptionData } from '../src/domain/events/structured.ts';
import { GROUPING_VERSION, groupEvent, groupEventV1, parseTextFrames } from '../src/domain/issues/fingerprint.ts';
import { groupingOf } from '../src/domain/issues/assign.ts';
import { parseVersion } from '../src/domain/releases/releases.ts';
import { sentryEventToRecord } from '../src/domain/ingest/formats/sentry/normalize.ts';

const RECEIVED = '2026-01-01T00:00:00.000Z';

const crash = {
  event_id: 'aa'.repeat(16),
  platform: 'node',
  release: 'shop@2.1.0',
  dist: 'b7',
  user: { id: 'u-1', ip_address: '{{auto}}' },
  contexts: {
    os: { name: 'Linux', version: '6.1' },
    runtime: { name: 'node', version: 'v20.20.0' },
    trace: { trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8) },
  },
  request: { url: 'https://shop.example/cart', method: 'POST', headers: { 'User-Agent': 'curl' } },
  breadcrumbs: {
    values: [{ timestamp: 1767225600.5, category: 'http', message: 'GET /api/cart', level: 'info', data: { status_code: 200 } }],
  },
  exception: {
    values: [
      {
        type: 'IOError',
        value: 'disk',
        mechanism: { type: 'chained', handled: true, exception_id: 1, parent_id: 0 },
        stacktrace: { frames: [{ filename: 'lib/io.js', function: 'read', lineno: 3, in_app: true }] },
      },
      {
        type: 'TypeError',
        value: "Cannot read properties of undefined (reading 'price')",
        mechanism: { type: 'onuncaughtexception', handled: false },
        stacktrace: {
          frames: [
            { filename: 'node:internal/timers', function: 'listOnTimeout', lineno: 569, in_app: false },
            {
              filename: '/srv/shop/cart.js',
              abs_path: '/srv/shop/cart.js',
              function: 'total',
              lineno: 12,
              colno: 20,
              in_app: true,
              pre_context: ['function total(items) {', '  let sum = 0;'],
              context_line: '  for (const i of items) sum += i.product.price;',
              post_context: ['  return sum;', '}'],
              vars: { items: '[Array]', sum: 0 },
            },
          ],
        },
      },
    ],
  },
};

describe('structured Sentry events', () => {
  it('keep the exception chain with mechanism, frames with context and vars, and the rest of the event', () => {
    const r = sentryEventToRecord(crash, 1, RECEIVED, undefined, { clientIp: '203.0.113.9' }).record;
    const data = r.data as Record<string, any>;
    expect(data.exceptions).toHaveLength(2);
    expect(data.exceptions[1]).toMatchObject({ type: 'TypeError', mechanism: { type: 'onuncaughtexception', handled: false } });
    expect(data.exceptions[1].frames[1]).toEqual(crash.exception.values[1].stacktrace.frames[1]);
    expect(data.handled).toBe(false);
    expect(data.breadcrumbs).toEqual([
      { timestamp: '2026-01-01T00:00:00.500Z', category: 'http', message: 'GET /api/cart', level: 'info', data: { status_code: 200 } },
    ]);
    expect(data).toMatchObject({ request: crash.request, contexts: crash.contexts, dist: 'b7', platform: 'node' });
    // {{auto}} is the address the event came from
    expect(data.user).toEqual({ id: 'u-1', ip_address: '203.0.113.9' });
    expect(r.release).toBe('shop@2.1.0');
    expect(r.tags).toMatchObject({ os: 'Linux 6.1', 'os.name': 'Linux', runtime: 'node v20.20.0', release: 'shop@2.1.0' });
    // The seed 1 text stays.
    expect(r.stacktrace).toMatch(/File "\/srv\/shop\/cart.js", line 12:20, in total\n {4}for \(const i of items\)/);
  });

  it('{{auto}} without a known address is dropped, never stored literally', () => {
    const r = sentryEventToRecord({ message: 'x', user: { ip_address: '{{auto}}' } }, 1, RECEIVED).record;
    expect(JSON.stringify(r)).not.toContain('{{auto}}');
    expect(r.user_ref).toBeNull();
  });

  it('logentry with params and no formatted: the message is formatted, the template kept for grouping', () => {
    const r = sentryEventToRecord({ logentry: { message: 'host=%s port=%d', params: ['db-1', 5432] }, level: 'error' }, 1, RECEIVED).record;
    expect(r.message).toBe('host=db-1 port=5432');
    expect(r.data).toMatchObject({ logentry: { message: 'host=%s port=%d', params: ['db-1', 5432] } });
    const other = sentryEventToRecord(
      { logentry: { message: 'host=%s port=%d', params: ['db-2', 6543] }, level: 'error' },
      1,
      RECEIVED,
    ).record;
    expect(groupingOf(other).fingerprint).toBe(groupingOf(r).fingerprint);
    expect(
      groupingOf(sentryEventToRecord({ logentry: { message: 'disk %s full', params: ['/'] } }, 1, RECEIVED).record).fingerprint,
    ).not.toBe(groupingOf(r).fingerprint);
  });

  it('formats Python %-style templates: positional, named, %r, %%, precision; leaves what it cannot place', () => {
    expect(formatLogentry('%s took %.2f s (%d%%)', ['job', 1.23456, 99.7])).toBe('job took 1.23 s (99%)');
    expect(formatLogentry('%(user)s from %(ip)r', { user: 'ada', ip: '10.0.0.1' })).toBe("ada from '10.0.0.1'");
    expect(formatLogentry('a=%s b=%s', ['only'])).toBe('a=only b=%s');
  });

  it('bounds what it keeps: deep stacks keep both ends, breadcrumbs the latest 100', () => {
    const frames = Array.from({ length: 1000 }, (_, i) => ({ filename: 'a.js', function: `f${i}`, lineno: i }));
    const breadcrumbs = Array.from({ length: 300 }, (_, i) => ({ message: `b${i}` }));
    const r = sentryEventToRecord({ exception: { values: [{ type: 'E', stacktrace: { frames } }] }, breadcrumbs }, 1, RECEIVED).record;
    const data = r.data as Record<string, any>;
    expect(data.exceptions[0].frames).toHaveLength(250);
    expect(data.exceptions[0].frames_omitted).toBe(750);
    expect(data.exceptions[0].frames[0].function).toBe('f0');
    expect(data.exceptions[0].frames.at(-1).function).toBe('f999');
    expect(data.breadcrumbs).toHaveLength(100);
    expect(data.breadcrumbs.at(-1).message).toBe('b299');
  });
});

describe('grouping, version 2', () => {
  const ex = (frames: ExceptionData['frames'], type = 'TypeError', value = 'x is undefined'): ExceptionData[] => [{ type, value, frames }];
  const group = (exceptions: ExceptionData[], extra: Partial<Parameters<typeof groupEvent>[0]> = {}) =>
    groupEvent({
      exception_type: exceptions.at(-1)?.type ?? null,
      message: exceptions.at(-1)?.value ?? '',
      stacktrace: null,
      exceptions,
      ...extra,
    });

  it('two anonymous callbacks of one file are two issues (by their source line, else their line number)', () => {
    const a = group(
      ex([
        { filename: '/srv/app.js', function: '?', lineno: 10, context_line: '  items.forEach((i) => i.price.toFixed(2));', in_app: true },
      ]),
    );
    const b = group(
      ex([{ filename: '/srv/app.js', function: '?', lineno: 30, context_line: '  users.map((u) => u.name.trim());', in_app: true }]),
    );
    expect(a.fingerprint).not.toBe(b.fingerprint);
    // …but the same callback moved by an edit above it stays one issue
    const moved = group(
      ex([
        { filename: '/srv/app.js', function: '?', lineno: 14, context_line: '  items.forEach((i) =>   i.price.toFixed(2));', in_app: true },
      ]),
    );
    expect(moved.fingerprint).toBe(a.fingerprint);
    // without context lines, line numbers tell them apart
    const c = group(ex([{ filename: '/srv/app.js', function: '<anonymous>', lineno: 10, in_app: true }]));
    const d = group(ex([{ filename: '/srv/app.js', function: '<anonymous>', lineno: 30, in_app: true }]));
    expect(c.fingerprint).not.toBe(d.fingerprint);
    // version 1 put all four into one issue
    const v1 = (e: ExceptionData[]) =>
      groupEventV1({ exception_type: 'TypeError', message: 'x', stacktrace: null, frames: e[0].frames }).fingerprint;
    expect(v1(ex([{ filename: '/srv/app.js', function: '?', lineno: 10, in_app: true }]))).toBe(
      v1(ex([{ filename: '/srv/app.js', function: '?', lineno: 30, in_app: true }])),
    );
  });

  it("Python's <module> is not a function: module-level code in one file splits by line", () => {
    const tb = (line: number, code: string) =>
      `Traceback (most recent call last):\n  File "/srv/job.py", line ${line}, in <module>\n    ${code}\nKeyError: 'k'`;
    const a = groupEvent({ exception_type: 'KeyError', message: "'k'", stacktrace: tb(3, 'cfg["db"]') });
    const b = groupEvent({ exception_type: 'KeyError', message: "'k'", stacktrace: tb(9, 'env["HOME"]') });
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(parseTextFrames(tb(3, 'cfg["db"]'))).toEqual([
      { filename: 'srv/job.py', function: '<module>', lineno: 3, context_line: 'cfg["db"]' },
    ]);
  });

  it('in-app frames only, when there are any; build hashes in bundle names do not split deploys', () => {
    const lib = { filename: 'node_modules/express/lib/router.js', function: 'handle', lineno: 1, in_app: false };
    const app = { filename: 'dist/main.3f9a2c1b.js', function: 'checkout', lineno: 1, in_app: true };
    expect(group(ex([lib, app])).fingerprint).toBe(
      group(
        ex([
          { ...lib, function: 'other' },
          { ...app, filename: 'dist/main.77aa00ff.js' },
        ]),
      ).fingerprint,
    );
    expect(group(ex([lib, app])).culprit).toBe('dist/main.3f9a2c1b.js in checkout');
  });

  it('the whole chain counts: the same error caused by something else is another issue', () => {
    const top = { type: 'RuntimeError', value: 'failed', frames: [{ filename: 'b.py', function: 'run', in_app: true }] };
    const a = group([{ type: 'IOError', value: 'disk', frames: [{ filename: 'a.py', function: 'read', in_app: true }] }, top]);
    const b = group([{ type: 'ValueError', value: 'bad', frames: [{ filename: 'c.py', function: 'parse', in_app: true }] }, top]);
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });

  it('a synthetic exception type (made up by the SDK) does not count', () => {
    const f = [{ filename: 'a.js', function: 'go', in_app: true }];
    const a = group([{ type: 'Error', value: 'Object captured as exception', mechanism: { synthetic: true }, frames: f }]);
    const b = group([{ type: 'Other', value: 'Object captured as exception', mechanism: { synthetic: true }, frames: f }]);
    expect(a.fingerprint).toBe(b.fingerprint);
  });

  it('is versioned: it answers its version and the version 1 fingerprint for matching older issues', () => {
    const frames = [{ filename: 'shop/views.py', module: 'shop.views', function: 'checkout', in_app: true }];
    const g = group(ex(frames, 'KeyError', "'basket'"));
    expect(g.version).toBe(GROUPING_VERSION);
    expect(g.legacy).toBe(groupEventV1({ exception_type: 'KeyError', message: "'basket'", stacktrace: null, frames }).fingerprint);
    // source-mapped frames: version 1 saw the minified ones
    const mapped = [{ filename: 'src/cart.ts', function: 'total', in_app: true, minified: { filename: 'bundle.js', function: 'a' } }];
    expect(group(ex(mapped)).legacy).toBe(
      groupEventV1({
        exception_type: 'TypeError',
        message: 'x',
        stacktrace: null,
        frames: [{ filename: 'bundle.js', function: 'a', in_app: true }],
      }).fingerprint,
    );
  });
});

describe('release versions', () => {
  it('parse package@semver, with pre-release and build; other versions are not semver', () => {
    expect(parseVersion('shop@1.2.3-rc.1+b5')).toEqual({ package: 'shop', major: 1, minor: 2, patch: 3, pre: 'rc.1' });
    expect(parseVersion('2.0')).toEqual({ package: null, major: 2, minor: 0, patch: 0, pre: null });
    expect(parseVersion('9f3a2c1')).toBeNull();
  });
});

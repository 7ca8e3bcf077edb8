/**
 * Legacy Sentry payloads, built from the older SDKs' documented formats (raven-python,
 * raven-java, raven-php, raven-ruby — the `sentry.interfaces.*` protocol), come out in the
 * modern form: type, value, frames, request, user and message are kept.
 */
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { classifyEvent, decodeStoreBody, modernizeEvent } from '../src/domain/ingest/formats/sentry/legacy.ts';
import { sentryEventToRecord } from '../src/domain/ingest/formats/sentry/normalize.ts';
import { sentryEventItem } from '../src/domain/ingest/formats/sentry/items.ts';
import { matchesSource, normalizedUri, parseSecurityBody, securityFilter } from '../src/domain/ingest/formats/sentry/security.ts';

/** Stored JSON, read untyped. */
type Json = ReturnType<typeof JSON.parse>;
const RECEIVED = '2026-01-01T00:00:00.000Z';
const rec = (p: unknown) => sentryEventToRecord(p, 1, RECEIVED);
const frames = [
  {
    abs_path: '/app/shop/views.py',
    filename: 'shop/views.py',
    module: 'shop.views',
    function: 'checkout',
    lineno: 12,
    context_line: '    return total / count',
    in_app: true,
    vars: { count: 0 },
  },
];

describe('raven-python (sentry.interfaces.* names)', () => {
  const event = {
    event_id: 'fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0',
    project: '1',
    culprit: 'shop.views.checkout',
    timestamp: '2017-05-02T17:41:36',
    message: 'ZeroDivisionError: division by zero',
    level: 40,
    logger: 'django.request',
    platform: 'python',
    server_name: 'web-1',
    site: 'eu',
    'sentry.interfaces.Exception': {
      values: [{ type: 'ZeroDivisionError', value: 'division by zero', module: 'builtins', stacktrace: { frames } }],
    },
    'sentry.interfaces.Http': {
      url: 'https://shop.example/checkout?step=2#pay',
      method: 'post',
      data: { qty: '1' },
      cookies: 'sessionid=abc; csrftoken=def',
      headers: { Host: 'shop.example', 'User-Agent': 'Mozilla/5.0' },
      env: { REMOTE_ADDR: '203.0.113.7' },
    },
    'sentry.interfaces.User': { id: '42', email: 'ada@example.com' },
    'sentry.interfaces.Template': { filename: 'checkout.html', lineno: 3, context_line: '{{ total|div:count }}' },
    breadcrumbs: [{ timestamp: 1493746896.5, category: 'query', message: 'SELECT 1' }],
    sdk: { name: 'raven-python', version: '6.10.0' },
  };

  it('keeps the exception type, value, frames, request, user, culprit and template', () => {
    const { record } = rec(event);
    expect(record).toMatchObject({
      event_id: 'fc6d8c0c43fc4630ad850ee518f1b9d0',
      event_type: 'exception',
      exception_type: 'ZeroDivisionError',
      message: 'division by zero',
      level: 'error', // Python's logging.ERROR
      timestamp: '2017-05-02T17:41:36.000Z', // no zone: UTC
      user_ref: '42',
    });
    expect(record.tags).toMatchObject({ site: 'eu', logger: 'django.request', server_name: 'web-1' });
    expect(record.stacktrace).toContain('File "shop/views.py", line 12, in checkout');
    const data = record.data as Json;
    expect(data.exceptions[0].frames[0]).toMatchObject({ function: 'checkout', module: 'shop.views', vars: { count: 0 } });
    expect(data.request).toMatchObject({
      url: 'https://shop.example/checkout',
      query_string: 'step=2',
      fragment: 'pay',
      method: 'POST',
      cookies: { sessionid: 'abc', csrftoken: 'def' },
      headers: { Host: 'shop.example' },
    });
    expect(data.user).toEqual({ id: '42', email: 'ada@example.com' });
    expect(data.culprit).toBe('shop.views.checkout');
    expect(data.template).toMatchObject({ filename: 'checkout.html', lineno: 3 });
    expect(data.breadcrumbs[0]).toMatchObject({ category: 'query', message: 'SELECT 1', timestamp: '2017-05-02T17:41:36.500Z' });
    expect(data.errors).toBeUndefined();
  });

  it('a message with params and a top-level stack: the formatted text, the template, and the stack as the message’s', () => {
    const { record } = rec({
      message: 'Payment failed for order 17',
      'sentry.interfaces.Message': { message: 'Payment failed for order %s', params: ['17'] },
      'sentry.interfaces.Stacktrace': { frames },
      level: 30,
      timestamp: '2017-05-02 17:41:36.250',
    });
    expect(record).toMatchObject({
      event_type: 'message',
      message: 'Payment failed for order 17',
      exception_type: null,
      level: 'warning',
      timestamp: '2017-05-02T17:41:36.250Z',
    });
    const data = record.data as Json;
    expect(data.logentry).toEqual({ message: 'Payment failed for order %s', params: ['17'] });
    expect(data.exceptions).toHaveLength(1);
    expect(data.exceptions[0]).toMatchObject({ value: 'Payment failed for order 17', mechanism: { synthetic: true } });
    expect(data.exceptions[0].frames[0].function).toBe('checkout');
  });

  it('raven-python 2: one exception object, its stack at the top level', () => {
    const { record } = rec({
      'sentry.interfaces.Exception': { type: 'ValueError', value: 'bad input', module: '__builtin__' },
      'sentry.interfaces.Stacktrace': { frames },
    });
    expect(record).toMatchObject({ exception_type: 'ValueError', message: 'bad input' });
    expect((record.data as Json).exceptions[0].frames).toHaveLength(1);
  });
});

describe('raven-java, raven-php, raven-ruby', () => {
  it('raven-java: exception as a bare list, headers as pairs, tags as pairs', () => {
    const { record } = rec({
      message: 'Checkout failed',
      timestamp: '2017-05-02T17:41:36',
      level: 'error',
      logger: 'com.example.Checkout',
      platform: 'java',
      culprit: 'com.example.Checkout.pay',
      'sentry.interfaces.Exception': [
        {
          type: 'ArithmeticException',
          value: '/ by zero',
          module: 'java.lang',
          stacktrace: {
            frames: [{ module: 'com.example.Checkout', function: 'pay', lineno: 41, in_app: true, filename: 'Checkout.java' }],
          },
        },
      ],
      'sentry.interfaces.Message': { message: 'Checkout failed', params: [] },
      'sentry.interfaces.Http': {
        url: 'https://shop.example/pay',
        method: 'POST',
        query_string: { a: '1', b: ['2', '3'] },
        headers: [
          ['Host', 'shop.example'],
          ['Accept', 'text/html'],
          ['Accept', 'application/json'],
        ],
      },
      tags: [
        ['os', 'Linux'],
        ['jvm', '17'],
      ],
      sdk: { name: 'raven-java', version: '8.0.3' },
    });
    expect(record).toMatchObject({
      exception_type: 'ArithmeticException',
      message: '/ by zero',
      tags: expect.objectContaining({ os: 'Linux', jvm: '17' }),
    });
    expect((record.data as Json).request).toMatchObject({
      query_string: 'a=1&b=2&b=3',
      headers: { Host: 'shop.example', Accept: 'text/html, application/json' },
    });
    expect(record.extra).toMatchObject({ message: 'Checkout failed' });
  });

  it('raven-php 1: PHP’s empty arrays are "none", the message is kept, the frame without a function too', () => {
    const { record, errors } = rec({
      event_id: '6e2a4a1b9b8f4d8b9f0a1c2d3e4f5a6b',
      project: 1,
      site: '',
      logger: 'php',
      tags: [],
      extra: [],
      user: [],
      platform: 'php',
      message: 'Call to undefined function foo()',
      culprit: '/var/www/index.php',
      timestamp: '2017-05-02T17:41:36.123',
      level: 'error',
      exception: {
        values: [
          {
            type: 'Error',
            value: 'Call to undefined function foo()',
            stacktrace: {
              frames: [
                { filename: 'index.php', abs_path: '/var/www/index.php', lineno: 3, function: null, context_line: 'foo();', vars: [] },
              ],
            },
          },
        ],
      },
      request: {
        url: 'http://example.com/index.php',
        method: 'GET',
        query_string: '',
        data: [],
        cookies: [],
        headers: { Host: 'example.com' },
      },
      sdk: { name: 'sentry-php', version: '1.10.0' },
    });
    expect(errors).toEqual([]);
    expect(record).toMatchObject({
      exception_type: 'Error',
      message: 'Call to undefined function foo()',
      timestamp: '2017-05-02T17:41:36.123Z',
    });
    expect((record.data as Json).exceptions[0].frames[0]).toMatchObject({ filename: 'index.php', lineno: 3, context_line: 'foo();' });
  });

  it('raven-ruby 2: the modern names with a legacy culprit', () => {
    const { record } = rec({
      timestamp: '2017-05-02T17:41:36',
      level: 'error',
      platform: 'ruby',
      culprit: 'app/models/order.rb in total at line 12',
      release: 'abc123',
      environment: 'production',
      message: 'ZeroDivisionError: divided by 0',
      exception: {
        values: [
          {
            type: 'ZeroDivisionError',
            value: 'divided by 0',
            module: '',
            stacktrace: {
              frames: [
                { abs_path: '/app/app/models/order.rb', function: 'total', lineno: 12, in_app: true, filename: 'app/models/order.rb' },
              ],
            },
          },
        ],
      },
      request: { url: 'https://shop.example/orders', method: 'GET', query_string: 'page=2', headers: { Host: 'shop.example' }, data: null },
      sdk: { name: 'raven-ruby', version: '2.7.4' },
    });
    expect(record).toMatchObject({
      exception_type: 'ZeroDivisionError',
      message: 'divided by 0',
      release: 'abc123',
      environment: 'production',
    });
    expect((record.data as Json).culprit).toBe('app/models/order.rb in total at line 12');
  });
});

describe('shapes and bad fields', () => {
  it('the modern key wins over its legacy alias; logentry as a string; breadcrumbs as {values}', () => {
    const { event } = modernizeEvent({
      user: { id: 'new' },
      'sentry.interfaces.User': { id: 'old' },
      logentry: 'plain',
      breadcrumbs: [{ message: 'a' }],
    });
    expect(event).toEqual({ user: { id: 'new' }, logentry: { formatted: 'plain' }, breadcrumbs: { values: [{ message: 'a' }] } });
  });

  it('fields of the wrong type are dropped and listed, the event kept', () => {
    const { record, errors } = rec({
      message: 'still here',
      exception: 'boom',
      breadcrumbs: 5,
      user: 'x',
      timestamp: 'yesterday',
      event_id: 'nope',
      request: { url: { no: 1 } },
    });
    expect(record.message).toBe('still here');
    expect(record.timestamp).toBe(RECEIVED);
    expect(errors.map((e) => e.name).sort()).toEqual(['breadcrumbs', 'event_id', 'exception', 'request.url', 'timestamp', 'user']);
    expect((record.data as Json).errors).toContainEqual({ type: 'invalid_data', name: 'exception', value: 'boom' });
  });

  it('a body that is not an object is a 400 naming it', () => {
    expect(() => rec(['not', 'an', 'event'])).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid_event', details: expect.objectContaining({ field: '(body)' }) }),
    );
  });

  it('transactions and unknown types are never error events', () => {
    expect(classifyEvent({ type: 'transaction' })).toBe('transaction');
    expect(classifyEvent({ type: 'error' })).toBe('error');
    expect(classifyEvent({})).toBe('error');
    expect(classifyEvent({ type: 'generic' })).toBe('other');
    const tx = sentryEventItem(
      {
        type: 'transaction',
        transaction: 'GET /',
        contexts: { trace: { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) } },
        start_timestamp: 1_700_000_000,
        timestamp: 1_700_000_001,
      },
      1,
      RECEIVED,
    );
    expect(tx.kind).toBe('trace');
    expect(sentryEventItem({ type: 'nel', message: 'x' }, 1, RECEIVED)).toMatchObject({ kind: 'skipped', type: 'nel' });
  });

  it('raven-node’s base64 of deflated JSON is decoded; JSON passes as it is', () => {
    const json = Buffer.from(JSON.stringify({ message: 'hi' }));
    expect(decodeStoreBody(Buffer.from(deflateSync(json).toString('base64')), 1 << 20).toString()).toBe(json.toString());
    expect(decodeStoreBody(json, 1 << 20)).toBe(json);
    expect(() => decodeStoreBody(Buffer.from(deflateSync(Buffer.alloc(4096, 32)).toString('base64')), 1024)).toThrow(
      expect.objectContaining({ status: 413 }),
    );
  });
});

describe('security reports', () => {
  const csp = (over: Record<string, unknown> = {}) => ({
    'csp-report': {
      'document-uri': 'https://shop.example/cart',
      'violated-directive': 'script-src',
      'effective-directive': 'script-src',
      'blocked-uri': 'https://evil.example/x.js',
      'original-policy': "script-src 'self'",
      ...over,
    },
  });

  it('a CSP report is an error event of its own kind, grouped by directive and blocked host', () => {
    const [event] = parseSecurityBody(csp(), { userAgent: 'Chrome', environment: 'prod' }).events;
    const r = sentryEventItem(event, 1, RECEIVED);
    expect(r.kind).toBe('error');
    if (r.kind !== 'error') return;
    expect(r.record).toMatchObject({
      kind: 'error',
      event_type: 'csp',
      exception_type: 'CSP',
      message: "Blocked 'script' from 'evil.example'",
      environment: 'prod',
      grouping: { fingerprint: ['csp', 'script-src', 'evil.example'] },
    });
    expect(r.record.tags).toMatchObject({
      'effective-directive': 'script-src',
      'csp.blocked_host': 'evil.example',
      url: 'https://shop.example/cart',
    });
    expect((r.record.data as Json).request).toMatchObject({ url: 'https://shop.example/cart', headers: { 'User-Agent': 'Chrome' } });
  });

  it('inline, eval and older browsers’ violated-directive only', () => {
    const msg = (over: Record<string, unknown>) =>
      (sentryEventItem(parseSecurityBody(csp(over), {}).events[0], 1, RECEIVED) as Json).record.message;
    expect(msg({ 'blocked-uri': 'inline' })).toBe("Blocked unsafe inline 'script'");
    expect(msg({ 'blocked-uri': 'eval' })).toBe("Blocked unsafe eval() 'script'");
    expect(
      msg({ 'effective-directive': undefined, 'violated-directive': "img-src 'self'", 'blocked-uri': 'http://cdn.example:8080/a.png' }),
    ).toBe("Blocked 'image' from 'cdn.example:8080'");
    expect(normalizedUri('data:image/png;base64,xx')).toBe('data:');
  });

  it.each([
    ['a chrome extension', { 'blocked-uri': 'chrome-extension://abcdef/inject.js' }, 'csp_disallowed_source'],
    ['a moz extension source', { 'source-file': 'moz-extension://123/content.js' }, 'csp_disallowed_source'],
    ['safari extension', { 'blocked-uri': 'safari-extension://com.x/y' }, 'csp_disallowed_source'],
    ['about:', { 'blocked-uri': 'about' }, 'csp_disallowed_source'],
    ['adware', { 'blocked-uri': 'https://cdn.superfish.com/x.js' }, 'csp_disallowed_source'],
    ['localhost', { 'blocked-uri': 'http://localhost:3000/x.js' }, 'csp_disallowed_source'],
    ['code from a data: document', { 'source-file': 'data:text/html,hi' }, 'csp_foreign_source'],
    ['code from blob:', { 'source-file': 'blob:https://shop.example/123' }, 'csp_foreign_source'],
    ['a page that is not a web page', { 'document-uri': 'about:blank' }, 'csp_foreign_document'],
  ])('filters %s', (_name, over, reason) => {
    const event = parseSecurityBody(csp(over), {}).events[0];
    expect(securityFilter('csp', event.csp as Record<string, unknown>)).toBe(reason);
    expect(sentryEventItem(event, 1, RECEIVED)).toMatchObject({ kind: 'filtered', reason });
  });

  it('matches Sentry’s source patterns', () => {
    expect(matchesSource('http://foo.superfish.com/a', '*.superfish.com')).toBe(true);
    expect(matchesSource('https://superfish.com.evil.example/', '*.superfish.com')).toBe(false);
    expect(matchesSource('https://shop.example/app.js', 'chrome-extension://*')).toBe(false);
  });

  it('Reporting API batches: csp-violation an event, the others logs; HPKP, Expect-CT, Expect-Staple', () => {
    const parsed = parseSecurityBody(
      [
        {
          type: 'csp-violation',
          age: 10,
          url: 'https://shop.example/',
          user_agent: 'Chrome',
          body: {
            documentURL: 'https://shop.example/',
            blockedURL: 'https://evil.example/x.js',
            effectiveDirective: 'script-src-elem',
            disposition: 'enforce',
          },
        },
        {
          type: 'deprecation',
          url: 'https://shop.example/',
          body: {
            id: 'UnloadHandler',
            message: 'Unload event listeners are deprecated',
            sourceFile: 'https://shop.example/app.js',
            lineNumber: 4,
          },
        },
        { type: 'crash', url: 'https://shop.example/', body: { reason: 'oom' } },
        'junk',
      ],
      {},
    );
    expect(parsed.invalid).toBe(1);
    expect(parsed.events).toHaveLength(1);
    expect((sentryEventItem(parsed.events[0], 1, RECEIVED) as Json).record.message).toBe("Blocked 'script' from 'evil.example'");
    expect(parsed.logs.map((l) => [l.event_type, l.level, l.message])).toEqual([
      ['deprecation', 'warning', 'Unload event listeners are deprecated at https://shop.example/app.js:4'],
      ['crash', 'error', 'Browser crash: oom'],
    ]);
    const msg = (body: unknown) => (sentryEventItem(parseSecurityBody(body, {}).events[0], 1, RECEIVED) as Json).record;
    expect(
      msg({
        'date-time': '2017-05-02T17:41:36Z',
        hostname: 'shop.example',
        port: 443,
        'known-pins': ['pin-sha256="x"'],
        'served-certificate-chain': [],
      }),
    ).toMatchObject({ event_type: 'hpkp', message: "Public key pinning validation failed for 'shop.example'" });
    expect(msg({ 'expect-ct-report': { hostname: 'shop.example', port: 443, scts: [] } })).toMatchObject({
      event_type: 'expectct',
      message: "Expect-CT failed for 'shop.example'",
    });
    expect(msg({ 'expect-staple-report': { hostname: 'shop.example', 'response-status': 'ERROR_RESPONSE' } })).toMatchObject({
      event_type: 'expectstaple',
      message: "Expect-Staple failed for 'shop.example'",
    });
    expect(parseSecurityBody({ hello: 'world' }, {})).toMatchObject({ events: [], logs: [], invalid: 1 });
  });

  it('a csp interface sent to /store/ (sentry.interfaces.Csp) is the same security event', () => {
    const r = sentryEventItem(
      {
        'sentry.interfaces.Csp': {
          effective_directive: 'style-src',
          blocked_uri: 'https://fonts.example/a.css',
          document_uri: 'https://shop.example/',
        },
      },
      1,
      RECEIVED,
    );
    expect(r).toMatchObject({ kind: 'error', record: { event_type: 'csp', message: "Blocked 'style' from 'fonts.example'" } });
  });
});

import { describe, expect, it } from '@jest/globals';
import { parseDsn, presentedJwt, presentedKey, sentryKeyOf } from '../src/domain/access/index.ts';
import { parseEnvelope } from '../src/domain/ingest/formats/sentry/envelope.ts';
import { sentryEventToRecord, sentryLogsToRecords, stacktraceText } from '../src/domain/ingest/formats/sentry/normalize.ts';
import { framesFromText, groupEvent, normalizeMessage } from '../src/domain/issues/fingerprint.ts';

const RECEIVED = '2026-01-01T00:00:00.000Z';
const env = (s: string) => Buffer.from(s, 'utf8');

describe('envelope parser (examples from the envelope spec)', () => {
  it('two items with length, one with an attachment of binary data', () => {
    const bin = Buffer.from([0x00, 0x0a, 0xff, 0x0a, 0x7b]);
    const body = Buffer.concat([
      env('{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42"}\n'),
      env('{"type":"attachment","length":5,"content_type":"application/octet-stream","filename":"x.bin"}\n'),
      bin,
      env('\n{"type":"event","length":41,"content_type":"application/json","filename":"application.log"}\n'),
      env('{"message":"hello world","level":"error"}\n'),
    ]);
    const e = parseEnvelope(body);
    expect(e.header.event_id).toBe('9ec79c33ec9942ab8353589fcb2e04dc');
    expect(e.items.map((i) => i.header.type)).toEqual(['attachment', 'event']);
    expect(e.items[0].payload.equals(bin)).toBe(true);
    expect(JSON.parse(e.items[1].payload.toString())).toEqual({ message: 'hello world', level: 'error' });
  });

  it('items without length run to the next newline; no trailing newline needed', () => {
    const e = parseEnvelope(
      env('{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"attachment"}\nhelloworld\n{"type":"event"}\n{"message":"hi"}'),
    );
    expect(e.items.map((i) => i.payload.toString())).toEqual(['helloworld', '{"message":"hi"}']);
  });

  it('empty payloads, with and without length', () => {
    const e = parseEnvelope(env('{}\n{"type":"attachment","length":0}\n\n{"type":"attachment"}\n'));
    expect(e.items.map((i) => i.payload.length)).toEqual([0, 0]);
  });

  it('an envelope with a header only', () => {
    expect(parseEnvelope(env('{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}')).items).toEqual([]);
    expect(parseEnvelope(env('{}\n')).items).toEqual([]);
  });

  it('tolerates CRLF line ends and blank lines between items', () => {
    const e = parseEnvelope(env('{"dsn":"x"}\r\n{"type":"event","length":2}\r\n{}\r\n\r\n{"type":"log"}\r\n{"items":[]}\r\n'));
    expect(e.items.map((i) => [i.header.type, i.payload.toString()])).toEqual([
      ['event', '{}'],
      ['log', '{"items":[]}'],
    ]);
  });

  it('keeps unknown item types as items (the handler skips them)', () => {
    const e = parseEnvelope(env('{}\n{"type":"something_new","length":3}\nabc\n{"type":"event"}\n{}\n'));
    expect(e.items.map((i) => i.header.type)).toEqual(['something_new', 'event']);
  });

  it.each([
    ['no header', ''],
    ['a header that is not JSON', 'nope\n'],
    ['an item header without type', '{}\n{"length":2}\nab\n'],
    ['a length past the end', '{}\n{"type":"event","length":50}\n{}\n'],
  ])('refuses %s', (_name, body) => {
    expect(() => parseEnvelope(env(body))).toThrow(expect.objectContaining({ status: 400, code: 'invalid_envelope' }));
  });
});

describe('credentials, as the access module reads them', () => {
  const req = (headers: Record<string, string>, url = '/x') => ({ headers, url });
  it('reads the Sentry key from X-Sentry-Auth or Authorization: Sentry, ignoring the deprecated secret', () => {
    expect(sentryKeyOf('Sentry sentry_version=7, sentry_client=sentry.python/2.0, sentry_key=flk_abc, sentry_secret=old')).toBe('flk_abc');
    expect(sentryKeyOf('Bearer flk_abc')).toBeNull();
    expect(presentedKey(req({ 'x-sentry-auth': 'Sentry sentry_key=flk_h' }), { sentry: true })).toBe('flk_h');
    expect(presentedKey(req({ authorization: 'Sentry sentry_key=flk_a' }), { sentry: true })).toBe('flk_a');
  });
  it('reads ?sentry_key= only where Sentry clients send it, and DSNs', () => {
    expect(presentedKey(req({}, '/api/1/envelope/?sentry_key=flk_q&sentry_version=7'), { sentry: true })).toBe('flk_q');
    expect(presentedKey(req({}, '/api/events/?sentry_key=flk_q'))).toBeNull();
    expect(parseDsn('http://flk_d@localhost:3000/42')).toEqual({ key: 'flk_d', projectId: 42 });
    expect(parseDsn('https://flk_d:secret@host/sub/path/7')).toEqual({ key: 'flk_d', projectId: 7 });
    expect(parseDsn('not a dsn')).toBeNull();
  });
  it('reads an API key from Bearer/Token/Api-Key, X-Faultline-Key and Basic (the secret), and never takes a JWT for one', () => {
    for (const scheme of ['Bearer', 'Token', 'Api-Key']) expect(presentedKey(req({ authorization: `${scheme} flk_k` }))).toBe('flk_k');
    expect(presentedKey(req({ 'x-faultline-key': 'flk_x' }))).toBe('flk_x');
    expect(presentedKey(req({ authorization: `Basic ${Buffer.from('pk-lf-public:flk_secret').toString('base64')}` }))).toBe('flk_secret');
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig';
    expect(presentedKey(req({ authorization: `Bearer ${jwt}` }))).toBeNull();
    expect(presentedJwt(req({ authorization: `JWT ${jwt}` }))).toBe(jwt);
    expect(presentedJwt(req({ authorization: 'Bearer flk_k' }))).toBeNull();
  });
});

const pythonEvent = {
  event_id: '9EC79C33-EC99-42AB-8353-589FCB2E04DC',
  timestamp: 1704110400.25,
  level: 'error',
  platform: 'python',
  release: 'shop@1.2.3',
  environment: 'production',
  server_name: 'web-1',
  tags: [['customer', 'acme']],
  user: { id: '42', email: 'a@example.com' },
  exception: {
    values: [
      {
        type: 'KeyError',
        value: "'basket'",
        stacktrace: {
          frames: [
            { filename: 'flask/app.py', function: 'dispatch', lineno: 100, in_app: false },
            {
              filename: 'shop/views.py',
              module: 'shop.views',
              function: 'checkout',
              lineno: 12,
              context_line: '    basket = session["basket"]',
              in_app: true,
            },
          ],
        },
      },
    ],
  },
};

describe('Sentry event → record', () => {
  it('maps the exception, a readable stack trace and the context', () => {
    const r = sentryEventToRecord(pythonEvent, 3, RECEIVED).record;
    expect(r).toMatchObject({
      project_id: 3,
      event_id: '9ec79c33ec9942ab8353589fcb2e04dc',
      kind: 'error',
      event_type: 'exception',
      exception_type: 'KeyError',
      message: "'basket'",
      level: 'error',
      environment: 'production',
      user_ref: '42',
      timestamp: '2024-01-01T12:00:00.250Z',
      origin: 'sentry',
    });
    expect(r.tags).toEqual({ customer: 'acme', release: 'shop@1.2.3', server_name: 'web-1', platform: 'python' });
    expect(r.data).toMatchObject({ user: { id: '42', email: 'a@example.com' } });
    expect(r.stacktrace).toBe(
      [
        'Traceback (most recent call last):',
        '  File "flask/app.py", line 100, in dispatch',
        '  File "shop/views.py", line 12, in checkout',
        '    basket = session["basket"]',
        "KeyError: 'basket'",
      ].join('\n'),
    );
    expect((r.data as { exceptions: Array<{ frames: Array<{ function: string }> }> }).exceptions[0].frames.map((f) => f.function)).toEqual([
      'dispatch',
      'checkout',
    ]);
  });

  it('a message event: logentry or message, ISO timestamp, missing event_id assigned', () => {
    const r = sentryEventToRecord(
      { logentry: { formatted: 'Disk almost full' }, level: 'warning', timestamp: '2024-05-01T10:00:00Z' },
      1,
      RECEIVED,
    ).record;
    expect(r).toMatchObject({
      event_type: 'message',
      message: 'Disk almost full',
      level: 'warning',
      exception_type: null,
      timestamp: '2024-05-01T10:00:00.000Z',
    });
    expect(r.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(sentryEventToRecord({ message: 'plain' }, 1, RECEIVED).record.message).toBe('plain');
  });

  it('fields of an unexpected type are ignored, not fatal; a non-object is refused', () => {
    const r = sentryEventToRecord({ message: 'x', level: 42, tags: 'oops', timestamp: 'garbage', environment: {} }, 1, RECEIVED).record;
    expect(r).toMatchObject({ level: 'error', tags: {}, timestamp: RECEIVED, environment: null });
    expect(() => sentryEventToRecord([1, 2], 1, RECEIVED)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('chained exceptions print oldest first', () => {
    const text = stacktraceText([
      { type: 'IOError', value: 'disk', frames: [{ filename: 'a.py', function: 'read', lineno: 1 }] },
      { type: 'RuntimeError', value: 'failed', frames: [{ filename: 'b.py', function: 'run', lineno: 2 }] },
    ]);
    expect(text!.indexOf('IOError: disk')).toBeLessThan(text!.indexOf('RuntimeError: failed'));
  });

  it('structured logs: one record per item, levels mapped, ids stable across resends', () => {
    const payload = {
      items: [
        {
          timestamp: 1704110400.5,
          trace_id: 'abc',
          level: 'warn',
          body: 'slow query',
          attributes: { 'sentry.environment': { value: 'prod', type: 'string' }, 'db.ms': { value: 812, type: 'integer' } },
        },
        { timestamp: 1704110401, level: 'fatal', body: 'dead' },
      ],
    };
    const a = sentryLogsToRecords(payload, 5, RECEIVED);
    expect(a.map((r) => [r.kind, r.level, r.message])).toEqual([
      ['log', 'warning', 'slow query'],
      ['log', 'critical', 'dead'],
    ]);
    expect(a[0]).toMatchObject({ environment: 'prod', extra: { attributes: { 'db.ms': 812 } }, tags: { trace_id: 'abc' } });
    expect(sentryLogsToRecords(payload, 5, RECEIVED)[0].event_id).toBe(a[0].event_id);
  });
});

describe('grouping', () => {
  const base = { exception_type: 'KeyError', message: "'basket'", stacktrace: null };
  const frames = pythonEvent.exception.values[0].stacktrace.frames;

  it('same type and in-app frames group together, whatever the line numbers and message', () => {
    const a = groupEvent({ ...base, frames });
    const b = groupEvent({ ...base, message: "'cart'", frames: frames.map((f) => ({ ...f, lineno: 999 })) });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.title).toBe("KeyError: 'basket'");
    expect(a.culprit).toBe('shop.views in checkout');
  });

  it('a different in-app function is a different issue; non-app frames do not matter', () => {
    const a = groupEvent({ ...base, frames });
    expect(groupEvent({ ...base, frames: [frames[0], { ...frames[1], function: 'pay' }] }).fingerprint).not.toBe(a.fingerprint);
    expect(groupEvent({ ...base, frames: [{ ...frames[0], function: 'other' }, frames[1]] }).fingerprint).toBe(a.fingerprint);
  });

  it('an explicit fingerprint wins; {{ default }} extends the default grouping', () => {
    const custom = groupEvent({ ...base, frames, fingerprint: ['payments', 'timeout'] });
    expect(groupEvent({ ...base, exception_type: 'Other', fingerprint: ['payments', 'timeout'] }).fingerprint).toBe(custom.fingerprint);
    const extended = groupEvent({ ...base, frames, fingerprint: ['{{ default }}', 'tenant-a'] });
    expect(extended.fingerprint).not.toBe(groupEvent({ ...base, frames }).fingerprint);
    expect(extended.fingerprint).not.toBe(groupEvent({ ...base, frames, fingerprint: ['{{ default }}', 'tenant-b'] }).fingerprint);
  });

  it('text stack traces (seed 1) group by their frames without line numbers', () => {
    const tb = (line: number, msg: string) =>
      `Traceback (most recent call last):\n  File "/srv/app/views.py", line ${line}, in checkout\n    x = y\nValueError: ${msg}`;
    const a = groupEvent({ exception_type: 'ValueError', message: 'bad 1', stacktrace: tb(10, 'bad 1') });
    const b = groupEvent({ exception_type: 'ValueError', message: 'bad 2', stacktrace: tb(99, 'bad 2') });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.culprit).toBe('app/views.py in checkout');
    expect(framesFromText('Error: x\n    at handler (/srv/api/routes.js:10:5)\n    at /srv/api/index.js:3:1')).toEqual([
      'api/routes.js:handler',
      'api/index.js:',
    ]);
  });

  it('without frames, messages group once numbers, ids and timestamps are stripped', () => {
    expect(normalizeMessage('User 42 not found (req 9f3a2b1c7d) at 2024-01-01T10:00:00Z, id 3fa85f64-5717-4562-b3fc-2c963f66afa6')).toBe(
      'User <n> not found (req <hex>) at <ts>, id <uuid>',
    );
    const a = groupEvent({ exception_type: null, message: 'Timeout after 3000 ms on shard 7', stacktrace: null });
    const b = groupEvent({ exception_type: null, message: 'Timeout after 5000 ms on shard 2', stacktrace: null });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(groupEvent({ exception_type: null, message: 'Disk full', stacktrace: null }).fingerprint).not.toBe(a.fingerprint);
  });
});

/** The pure parts of src/domain/outcomes: filter decisions on normalized events, client report parsing, buckets. */
import { describe, expect, it } from '@jest/globals';
import { filterEvent, FILTERS_OFF, type InboundFilterSettings } from '../src/domain/outcomes/filters.ts';
import { clientReportOutcomes } from '../src/domain/outcomes/clientReports.ts';
import { bucketsOf } from '../src/domain/outcomes/stats.ts';
import { itemCategory, itemTypeName } from '../src/domain/outcomes/categories.ts';
import { sentryEventToRecord } from '../src/domain/ingest/formats/sentry/normalize.ts';

const ALL: InboundFilterSettings = {
  legacy_browsers: true,
  web_crawlers: true,
  browser_extensions: true,
  localhost: true,
  error_messages: ['*ResizeObserver loop*', 'ChunkLoadError: *'],
  releases: ['*-dev', 'legacy@0.*'],
};
const record = (e: Record<string, unknown>) => sentryEventToRecord({ level: 'error', ...e }, 1, new Date().toISOString()).record;
const withUa = (ua: string) => record({ message: 'x', request: { url: 'https://shop.example.com/', headers: [['User-Agent', ua]] } });

describe('legacy browsers', () => {
  it.each([
    ['IE 8', 'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)'],
    ['IE 11', 'Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko'],
    ['Opera 12', 'Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18'],
    ['Safari 5', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_6_8) AppleWebKit/534.59.10 (KHTML, like Gecko) Version/5.1.9 Safari/534.59.10'],
    [
      'Android 2.3',
      'Mozilla/5.0 (Linux; U; Android 2.3.6; en-us; GT-S5360 Build/GINGERBREAD) AppleWebKit/533.1 (KHTML, like Gecko) Version/4.0 Mobile Safari/533.1',
    ],
  ])('%s is legacy', (_name, ua) => {
    expect(filterEvent(withUa(ua), { ...FILTERS_OFF, legacy_browsers: true })).toBe('legacy-browsers');
  });
  it.each([
    ['Chrome 131', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'],
    [
      'Edge 120',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
    ],
    ['Safari 17', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15'],
    ['Firefox 120', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'],
    [
      'Android 4.4 stock browser',
      'Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SM-T230 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Safari/534.30',
    ],
    ['garbage', '}}}not a browser{{{'],
  ])('%s is not', (_name, ua) => {
    expect(filterEvent(withUa(ua), { ...FILTERS_OFF, legacy_browsers: true })).toBeNull();
  });
});

describe('the other filters', () => {
  it('look only at error events, and only when on', () => {
    const ie = withUa('Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)');
    expect(filterEvent(ie, FILTERS_OFF)).toBeNull();
    expect(filterEvent({ ...ie, kind: 'log' }, ALL)).toBeNull();
  });
  it('match message globs against "Type: value", the value and the message, case-insensitively', () => {
    expect(filterEvent(record({ exception: { values: [{ type: 'ChunkLoadError', value: 'Loading chunk 7 failed.' }] } }), ALL)).toBe(
      'error-message',
    );
    expect(filterEvent(record({ message: 'resizeobserver LOOP completed with undelivered notifications' }), ALL)).toBe('error-message');
    expect(filterEvent(record({ exception: { values: [{ type: 'TypeError', value: 'ChunkLoadError: nope' }] } }), ALL)).toBe(
      'error-message',
    );
    expect(filterEvent(record({ exception: { values: [{ type: 'TypeError', value: 'x is undefined' }] } }), ALL)).toBeNull();
  });
  it('match release globs', () => {
    expect(filterEvent(record({ message: 'x', release: 'web@4.0.0-dev' }), ALL)).toBe('release-version');
    expect(filterEvent(record({ message: 'x', release: 'legacy@0.9' }), ALL)).toBe('release-version');
    expect(filterEvent(record({ message: 'x', release: 'legacy@1.0' }), ALL)).toBeNull();
    expect(filterEvent(record({ message: 'x' }), ALL)).toBeNull();
  });
  it("know Sentry's extension noise, but not a page's own scripts", () => {
    const frame = (abs_path: string) =>
      record({
        exception: {
          values: [{ type: 'Error', value: 'boom', stacktrace: { frames: [{ abs_path: 'https://a.example/app.js' }, { abs_path }] } }],
        },
      });
    expect(filterEvent(frame('safari-web-extension://E8A3B2C1/content.js'), ALL)).toBe('browser-extensions');
    expect(filterEvent(frame('https://connect.facebook.net/en_US/sdk.js'), ALL)).toBe('browser-extensions');
    expect(filterEvent(frame('https://a.example/chrome-extension.js'), ALL)).toBeNull();
    expect(filterEvent(record({ exception: { values: [{ type: 'TypeError', value: "can't access dead object" }] } }), ALL)).toBe(
      'browser-extensions',
    );
    expect(filterEvent(record({ exception: { values: [{ type: 'TypeError', value: 'Cannot redefine property: ethereum' }] } }), ALL)).toBe(
      'browser-extensions',
    );
  });
  it('know localhost by address, URL host and server name — not by a look-alike domain', () => {
    expect(filterEvent(record({ message: 'x', user: { ip_address: '127.0.0.1' } }), ALL)).toBe('localhost');
    expect(filterEvent(record({ message: 'x', request: { url: 'http://[::1]:8080/a' } }), ALL)).toBe('localhost');
    expect(filterEvent(record({ message: 'x', request: { url: 'http://app.localhost/a' } }), ALL)).toBe('localhost');
    expect(filterEvent(record({ message: 'x', request: { url: 'https://localhost.shop.com/a' } }), ALL)).toBeNull();
    expect(filterEvent(record({ message: 'x', user: { ip_address: '10.0.0.1' } }), ALL)).toBeNull();
  });
});

describe('client reports', () => {
  it('keep sane entries, name a missing reason after the list, and refuse what is not a report', () => {
    expect(clientReportOutcomes('nope', 1)).toBeNull();
    expect(clientReportOutcomes({}, 1)).toEqual([]);
    const out = clientReportOutcomes(
      {
        discarded_events: [
          { reason: 'queue_overflow', category: 'span', quantity: 2 },
          { reason: 'bad reason with spaces', category: 'error', quantity: 1 },
          { reason: 'x', category: 'error', quantity: 1.5 },
          { reason: 'x', category: 'error', quantity: 100_000_000 },
        ],
        filtered_sampling_events: [{ category: 'transaction', quantity: 3 }],
      },
      7,
      9,
    );
    expect(out).toEqual([
      { projectId: 7, keyId: 9, category: 'span', outcome: 'client_discard', reason: 'queue_overflow', quantity: 2 },
      { projectId: 7, keyId: 9, category: 'error', outcome: 'client_discard', reason: 'unknown', quantity: 1 },
      { projectId: 7, keyId: 9, category: 'transaction', outcome: 'client_discard', reason: 'sample_rate', quantity: 3 },
    ]);
  });
});

describe('buckets and names', () => {
  it('floor since and round until up to the interval, in UTC', () => {
    const hours = bucketsOf({ since: new Date('2026-01-01T10:30:00Z'), until: new Date('2026-01-01T12:05:00Z'), interval: 'hour' });
    expect(hours.map((t) => new Date(t).toISOString())).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
    ]);
    expect(bucketsOf({ since: new Date('2026-01-01T10:30:00Z'), until: new Date('2026-01-01T10:30:00Z'), interval: 'day' })).toHaveLength(
      1,
    );
  });
  it('map item types to categories and keep junk out of reasons', () => {
    expect(itemCategory('replay_video')).toBe('replay');
    expect(itemCategory('check_in')).toBe('monitor');
    expect(itemCategory('whatever')).toBe('unknown');
    expect(itemTypeName('Profile_Chunk')).toBe('profile_chunk');
    expect(itemTypeName('x'.repeat(41))).toBe('unnamed');
    expect(itemTypeName('a b')).toBe('unnamed');
  });
});

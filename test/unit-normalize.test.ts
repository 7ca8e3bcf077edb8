import { describe, expect, it } from '@jest/globals';
import { pantiesToRecord, PantiesEventSchema } from '../src/domain/ingest/formats/panties.ts';
import { EventRecordSchema, TimestampSchema } from '../src/domain/events/record.ts';
import { normalizeLevel } from '../src/domain/levels.ts';

const RECEIVED = '2026-01-01T00:00:00.000Z';
const toRecord = (body: unknown) => pantiesToRecord(PantiesEventSchema.parse(body), 7, RECEIVED);

describe('level names', () => {
  it.each([
    ['error', 'error'],
    ['ERROR', 'error'],
    ['Warn', 'warning'],
    ['warning', 'warning'],
    ['fatal', 'critical'],
    ['CRITICAL', 'critical'],
    ['info', 'info'],
    ['DEBUG', 'debug'],
    ['trace', 'debug'],
  ])('%s → %s', (name, level) => {
    expect(normalizeLevel(name)).toBe(level);
  });
  it('unknown names are undefined', () => {
    expect(normalizeLevel('loud')).toBeUndefined();
  });
});

describe('timestamps', () => {
  it.each([
    [1234567890, '2009-02-13T23:31:30.000Z'],
    [1234567890.25, '2009-02-13T23:31:30.250Z'],
    [1234567890123, '2009-02-13T23:31:30.123Z'], // milliseconds
    ['1234567890', '2009-02-13T23:31:30.000Z'],
    ['2024-01-01T12:00:00Z', '2024-01-01T12:00:00.000Z'],
    ['2024-01-01T12:00:00+02:00', '2024-01-01T10:00:00.000Z'],
  ])('%p → %s', (input, iso) => {
    expect(TimestampSchema.parse(input)).toBe(iso);
  });
  it.each([['yesterday'], [-5], [Number.NaN], ['99999-01-01']])('%p is refused', (input) => {
    expect(TimestampSchema.safeParse(input).success).toBe(false);
  });
});

describe('seed 1 event → record', () => {
  it('maps seed fields onto columns and defaults what is missing', () => {
    const r = toRecord({ message: 'boom' });
    expect(r).toMatchObject({
      project_id: 7,
      kind: 'error',
      event_type: 'message',
      level: 'error',
      message: 'boom',
      timestamp: RECEIVED,
      received_at: RECEIVED,
      exception_type: null,
      environment: null,
      service: null,
      tags: {},
      extra: {},
      origin: 'panties',
    });
    expect(r.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(EventRecordSchema.safeParse(r).success).toBe(true);
  });

  it('an exception without event_type is an "exception"', () => {
    expect(toRecord({ exception_type: 'KeyError' }).event_type).toBe('exception');
  });

  it('keeps unknown top-level fields in extra instead of dropping them', () => {
    const r = toRecord({ message: 'x', release: '1.2.3', extra: { user_id: '1' } });
    expect(r.extra).toEqual({ user_id: '1', release: '1.2.3' });
  });

  it('accepts a stack trace sent as a list of lines', () => {
    expect(toRecord({ message: 'x', stacktrace: ['line 1', 'line 2'] }).stacktrace).toBe('line 1\nline 2');
  });

  it('replaces NUL and lone surrogates that PostgreSQL would refuse, in text and JSON', () => {
    const r = toRecord({ message: 'a\u0000b', tags: { 'k\u0000': 'v\ud800' } });
    expect(r.message).toBe('a\uFFFDb');
    expect(r.tags).toEqual({ 'k\uFFFD': 'v\uFFFD' });
  });

  it('clips over-long short fields to their column sizes', () => {
    const r = toRecord({ message: 'x', environment: 'e'.repeat(500), exception_type: 't'.repeat(1000) });
    expect(r.environment).toHaveLength(100);
    expect(r.exception_type).toHaveLength(255);
  });

  it('refuses an event with nothing to show', () => {
    expect(PantiesEventSchema.safeParse({ level: 'error' }).success).toBe(false);
  });
});

import { describe, expect, it } from '@jest/globals';
import { JOBS } from '../src/queues/contract.ts';
import { pack, unpack } from '../src/queues/pack.ts';
import { newEventId, type EventRecord } from '../src/domain/events/record.ts';

let n = 0;
const at = () => new Date(Date.UTC(2026, 0, 1) + n++ * 1000).toISOString();
const record = (over: Partial<EventRecord> = {}): EventRecord => ({
  project_id: 7,
  event_id: newEventId(),
  kind: 'error',
  event_type: 'exception',
  timestamp: at(),
  received_at: at(),
  level: 'error',
  message: "KeyError: 'CHF'",
  exception_type: 'KeyError',
  stacktrace: 'Traceback (most recent call last):\n  File "shop.py", line 3\n'.repeat(10),
  environment: 'production',
  service: 'shop-web',
  user_ref: null,
  tags: { host: 'web-3', release: '2025.11.3' },
  extra: { path: '/checkout/' },
  origin: 'panties',
  ...over,
});

describe('job payload packing', () => {
  it('writes the fields every record shares once, and unpacking gives back exactly the records', () => {
    const items = [record(), record({ level: 'critical' }), record({ tags: { host: 'web-3', release: '2025.11.3' } })];
    const packed = pack(items);
    expect(Object.keys(packed.shared!).sort()).toEqual(
      [
        'project_id',
        'kind',
        'event_type',
        'message',
        'exception_type',
        'stacktrace',
        'environment',
        'service',
        'user_ref',
        'tags',
        'extra',
        'origin',
      ].sort(),
    );
    // What differs stays per record (the level, the ids); equal objects are shared by value.
    expect(packed.items.map((i) => Object.keys(i).sort())).toEqual(items.map(() => ['event_id', 'level', 'received_at', 'timestamp']));
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify({ items }).length / 2);
    const parsed = JOBS['store-events'].payload.parse(JSON.parse(JSON.stringify(packed)));
    expect(parsed.items).toEqual(items);
  });

  it('a field missing from one record, or null in one and absent in another, is not shared', () => {
    const a = { ...record(), release: 'r1' };
    const b = record();
    const { shared, items } = pack([a, b]);
    expect(shared).not.toHaveProperty('release');
    expect((unpack({ items, shared }) as { items: unknown[] }).items).toEqual([a, b]);
  });

  it('one record, or nothing in common, goes as it is; jobs queued before packing still validate', () => {
    const one = [record()];
    expect(pack(one)).toEqual({ items: one });
    expect(pack([{ a: 1 }, { a: 2 }])).toEqual({ items: [{ a: 1 }, { a: 2 }] });
    const old = { items: [record(), record()] };
    expect(JOBS['store-events'].payload.parse(JSON.parse(JSON.stringify(old))).items).toEqual(old.items);
  });

  it('a packed job that is invalid once unpacked is refused like any invalid payload', () => {
    const packed = pack([record(), record()]);
    (packed.shared as Record<string, unknown>).level = 'loud';
    expect(JOBS['store-events'].payload.safeParse(JSON.parse(JSON.stringify(packed))).success).toBe(false);
  });
});

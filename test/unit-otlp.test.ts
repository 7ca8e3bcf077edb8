/** OTLP decoding and the shared value helpers, without a server. */
import { describe, expect, it } from '@jest/globals';
import protobuf from 'protobufjs';
import { decodeRequest, encodeRequest } from '../src/domain/ingest/formats/otlp/decode.ts';
import { levelOfSeverity } from '../src/domain/ingest/formats/otlp/logs.ts';
import { anyValue, bigintOf, isoOfNanos } from '../src/domain/ingest/formats/otlp/values.ts';

describe('values', () => {
  it('reads 64-bit integers from Long bits, numbers and strings, exactly', () => {
    // protobufjs's own Long (the `long` package), as decoded messages carry it.
    const Long = protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): unknown };
    expect(bigintOf(Long.fromString('18446744073709551615', true))).toBe(18446744073709551615n);
    expect(bigintOf(Long.fromString('-9223372036854775808', false))).toBe(-9223372036854775808n);
    expect(bigintOf('1700000000123456789')).toBe(1700000000123456789n);
    expect(bigintOf(42)).toBe(42n);
    expect(bigintOf('nope')).toBe(0n);
  });

  it('keeps microseconds in timestamps and exact integers in attributes', () => {
    expect(isoOfNanos(1700000000123456789n)).toBe('2023-11-14T22:13:20.123456Z');
    expect(anyValue({ intValue: '9007199254740993' })).toBe('9007199254740993');
    expect(anyValue({ intValue: 12 })).toBe(12);
    expect(
      anyValue({ kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ boolValue: true }, { doubleValue: 1.5 }] } } }] } }),
    ).toEqual({ a: [true, 1.5] });
  });

  it('maps severity numbers, else the severity text', () => {
    expect([1, 5, 9, 13, 17, 21, 24].map((n) => levelOfSeverity(n, ''))).toEqual([
      'debug',
      'debug',
      'info',
      'warning',
      'error',
      'critical',
      'critical',
    ]);
    expect(levelOfSeverity(0, 'WARN2')).toBe('warning');
    expect(levelOfSeverity(0, 'whatever')).toBeNull();
  });
});

describe('decodeRequest', () => {
  it('reads protobuf and OTLP/JSON into the same messages (hex ids, string or number integers, proto names too)', () => {
    const fromProto = decodeRequest(
      'logs',
      encodeRequest('logs', {
        resourceLogs: [
          {
            scopeLogs: [
              { logRecords: [{ timeUnixNano: '1700000000000000001', severityNumber: 13, traceId: Buffer.from('ab'.repeat(16), 'hex') }] },
            ],
          },
        ],
      }),
      'protobuf',
    );
    const fromJson = decodeRequest(
      'logs',
      Buffer.from(
        JSON.stringify({
          resource_logs: [
            {
              scopeLogs: [
                {
                  log_records: [
                    { time_unix_nano: '1700000000000000001', severityNumber: 'SEVERITY_NUMBER_WARN', traceId: 'AB'.repeat(16) },
                  ],
                },
              ],
            },
          ],
        }),
      ),
      'json',
    );
    for (const req of [fromProto, fromJson]) {
      const lr = (req.resourceLogs as Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }>)[0].scopeLogs[0]
        .logRecords[0];
      expect(bigintOf(lr.timeUnixNano)).toBe(1700000000000000001n);
      expect(lr.severityNumber).toBe(13);
      expect(Buffer.from(lr.traceId as Uint8Array).toString('hex')).toBe('ab'.repeat(16));
    }
  });

  it('refuses JSON whose types are wrong, naming the field', () => {
    const bad = (body: unknown) => () => decodeRequest('traces', Buffer.from(JSON.stringify(body)), 'json');
    expect(bad({ resourceSpans: {} })).toThrow(/resourceSpans: array expected/);
    expect(bad({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 7 }] }] }] })).toThrow(/spans\[0\]\.name: string expected/);
    expect(bad({ resourceSpans: [{ scopeSpans: [{ spans: [{ kind: 'SIDEWAYS' }] }] }] })).toThrow(/kind: enum value expected/);
    expect(bad({ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: -1 }] }] }] })).toThrow(/unsigned 64-bit integer/);
    expect(bad([])).toThrow(/object expected/);
  });
});

/**
 * Hostile bodies on the ingest paths: a decompression bomb, in every Content-Encoding, is
 * cut at each route's limit by the decoder itself (413, and nothing queued, recorded or
 * written); an envelope is authenticated on its first line before the rest is decoded;
 * raw deflate is accepted; zstd windows are held to RFC 9659's 8 MB.
 */
import { DUMPS_DIR, MAX_BYTES } from './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deflateRawSync } from 'node:zlib';
import { uploadWireLimit } from '../src/api/routes/dumps/multipart.ts';
import { SENTRY_LIMITS } from '../src/api/routes/sentry/envelopeItems.ts';
import { config } from '../src/config.ts';
import { bomb, contentEncoding, ENCODINGS, type BombEncoding } from './helpers/bombs.ts';
import { filesUnder } from './helpers/dumps.ts';
import { createUser, pantiesEvent, type TestUser } from './helpers/factories.ts';
import { jobsAdded, listen, startWeb } from './helpers/stack.ts';

const MiB = 1024 * 1024;
/** Every bomb decodes to 1 GiB. */
const BOMB_MIB = 1024;
/** Growth of this (the server's) process per refused bomb: generous, and far below the 1 GiB a bomb holds. */
const RSS_BOUND = 200 * MiB;
/** A decoder may produce one block (zstd: 128 KiB) or a few zlib chunks past its limit, and a dump's write buffers. */
const SLACK = 2 * MiB;

let stack: Awaited<ReturnType<typeof startWeb>>;
let base: string;
let u: TestUser;

beforeAll(async () => {
  stack = await startWeb();
  base = await listen(stack.web);
  u = await createUser(stack.web.ds);
});
afterAll(async () => {
  await stack?.web.close();
});

/** Bytes produced so far by the decoders of one encoding, as /metrics tells. */
async function decodedBytes(encoding: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^faultline_http_decoded_bytes_total\\{encoding="${encoding}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Everything a request could have changed: jobs added, dump rows, files under DUMPS_DIR (its .tmp included). */
async function traces() {
  const [{ n }] = await stack.web.ds.query('SELECT count(*)::int AS n FROM crash_dumps WHERE project_id = $1', [u.personal.id]);
  return {
    eventJobs: await jobsAdded(stack.web, 'events'),
    dumpJobs: await jobsAdded(stack.web, 'dumps'),
    dumpRows: n as number,
    files: filesUnder(DUMPS_DIR),
  };
}

const BOUNDARY = 'faultline-bomb';
const formAround = (field: string) => ({
  prefix: Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="crash.dmp"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  ),
  suffix: Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  contentType: `multipart/form-data; boundary=${BOUNDARY}`,
});

interface Target {
  name: string;
  /** The decoded size past which the route refuses. */
  limit: number;
  url: () => string;
  headers: () => Record<string, string>;
  form?: ReturnType<typeof formAround>;
  /** Dumps: a file that is itself gzip is stored decompressed, so a gzip bomb *file* must stop at DUMPS_MAX_BYTES too. */
  gzipFile?: boolean;
}

const llmLimit = Math.max(config.ingest.maxRequestBytes, 2 * config.llmLogs.maxTextBytes + config.ingest.maxEventBytes);
const dumpLimit = uploadWireLimit(MAX_BYTES);
const TARGETS: Target[] = [
  {
    name: 'POST /api/events/',
    limit: config.ingest.maxRequestBytes,
    url: () => `${base}/api/events/`,
    headers: () => ({ Authorization: `Bearer ${u.apiKey}`, 'Content-Type': 'application/json' }),
  },
  // Seed 3 carries the key in the body: these bodies are read before anything is known about the caller.
  {
    name: 'POST /api/event-log/',
    limit: config.ingest.maxRequestBytes,
    url: () => `${base}/api/event-log/`,
    headers: () => ({ 'Content-Type': 'application/json' }),
  },
  {
    name: 'POST /api/llm-log/',
    limit: llmLimit,
    url: () => `${base}/api/llm-log/`,
    headers: () => ({ 'Content-Type': 'application/json' }),
  },
  {
    name: 'POST /api/{id}/envelope/',
    limit: SENTRY_LIMITS.envelopeBytes,
    url: () => `${base}/api/${u.personal.id}/envelope/?sentry_key=${u.apiKey}`,
    headers: () => ({}),
  },
  {
    name: 'POST /api/{id}/minidump/ (raw body)',
    limit: dumpLimit,
    url: () => `${base}/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`,
    headers: () => ({}),
  },
  {
    name: 'POST /api/{id}/minidump/ (multipart)',
    limit: dumpLimit,
    url: () => `${base}/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`,
    headers: () => ({}),
    form: formAround('upload_file_minidump'),
  },
  {
    name: 'POST /api/dumps/ (multipart)',
    limit: dumpLimit,
    url: () => `${base}/api/dumps/`,
    headers: () => ({ Authorization: `Bearer ${u.access}` }),
    form: formAround('file'),
    gzipFile: true,
  },
];

async function send(t: Target, body: Buffer, encoding?: string): Promise<{ status: number; code: unknown; rssGrowth: number }> {
  const rss = process.memoryUsage().rss;
  const headers: Record<string, string> = { ...t.headers(), ...(t.form ? { 'Content-Type': t.form.contentType } : {}) };
  if (encoding) headers['Content-Encoding'] = encoding;
  const res = await fetch(t.url(), { method: 'POST', headers, body });
  const json = (await res.json()) as { code?: unknown };
  return { status: res.status, code: json.code, rssGrowth: process.memoryUsage().rss - rss };
}

describe('decompression bombs', () => {
  it.each(TARGETS)(
    '$name: a 1 GiB bomb in any encoding (and as a gzip file, for dumps) answers 413 having decoded no more than the limit; nothing moves',
    async (t) => {
      const before = await traces();
      for (const enc of ENCODINGS) {
        const body = await bomb(enc, BOMB_MIB, t.form?.prefix, t.form?.suffix);
        const decoded = await decodedBytes(contentEncoding(enc));
        const got = await send(t, body, contentEncoding(enc));
        expect({ enc, status: got.status, code: got.code }).toEqual({ enc, status: 413, code: 'payload_too_large' });
        const work = (await decodedBytes(contentEncoding(enc))) - decoded;
        expect({ enc, decodedSome: work > 0, withinLimit: work <= t.limit + SLACK }).toEqual({ enc, decodedSome: true, withinLimit: true });
        expect({ enc, rssGrowth: got.rssGrowth < RSS_BOUND }).toEqual({ enc, rssGrowth: true });
      }
      if (t.gzipFile) {
        // Was bounded before decoders had limits (zlib waits for the dump's meter); kept as a guard.
        const got = await send(t, Buffer.concat([t.form!.prefix, await bomb('gzip', BOMB_MIB), t.form!.suffix]));
        expect({ status: got.status, code: got.code, bounded: got.rssGrowth < RSS_BOUND }).toEqual({
          status: 413,
          code: 'payload_too_large',
          bounded: true,
        });
      }
      expect(await traces()).toEqual({ ...before, files: [] });
    },
  );
});

describe('an envelope is authenticated before its body is read', () => {
  const envelopeHead = () =>
    Buffer.from(
      `${JSON.stringify({ event_id: 'b'.repeat(32), sent_at: new Date().toISOString() })}\n${JSON.stringify({ type: 'attachment', length: 99 * MiB })}\n`,
    );

  it.each(['gzip', 'zstd'] as BombEncoding[])(
    '%s: no key in the headers, the query or the envelope header: 401 having decoded only the first line',
    async (enc) => {
      const before = await decodedBytes(enc);
      const res = await fetch(`${base}/api/${u.personal.id}/envelope/`, {
        method: 'POST',
        headers: { 'Content-Encoding': enc },
        body: await bomb(enc, 99, envelopeHead()),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('authentication_required');
      const work = (await decodedBytes(enc)) - before;
      expect(work).toBeGreaterThan(0); // the first line was decoded…
      expect(work).toBeLessThan(MiB); // …and little more of the ~100 MB
    },
  );

  it('the rest of a refused envelope is never decoded: corrupt data after its first line still answers 401', async () => {
    const body = await bomb('gzip', 99, envelopeHead());
    body.fill(0xff, 64 * 1024); // ~64 MB into the decoded body, the deflate stream turns to garbage
    const res = await fetch(`${base}/api/${u.personal.id}/envelope/`, { method: 'POST', headers: { 'Content-Encoding': 'gzip' }, body });
    expect(res.status).toBe(401);
  });

  it('a DSN of another project in the envelope header: 403 before the rest is read', async () => {
    const other = await createUser(stack.web.ds);
    const head = Buffer.from(
      `${JSON.stringify({ dsn: `http://${other.apiKey}@faultline.test/${other.personal.id}` })}\n${JSON.stringify({ type: 'event', length: 10 })}\n`,
    );
    const body = await bomb('gzip', 50, head);
    body.fill(0xff, 64 * 1024);
    const res = await fetch(`${base}/api/${u.personal.id}/envelope/`, { method: 'POST', headers: { 'Content-Encoding': 'gzip' }, body });
    expect(res.status).toBe(403);
  });
});

describe('Content-Encoding details', () => {
  it('raw deflate (what many clients send as "deflate") is accepted, as zlib-wrapped deflate is', async () => {
    const event = pantiesEvent({ event_id: `raw-deflate-${Date.now()}` });
    const res = await fetch(`${base}/api/events/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${u.apiKey}`, 'Content-Type': 'application/json', 'Content-Encoding': 'deflate' },
      body: deflateRawSync(Buffer.from(JSON.stringify(event))),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ event_id: event.event_id });
  });

  it('a zstd frame that asks for a window over 8 MB (RFC 9659) is refused before it is decoded', async () => {
    const json = Buffer.from(JSON.stringify(pantiesEvent()));
    const rawBlock = (last: boolean) => {
      const h = (json.length << 3) | (last ? 1 : 0);
      return Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]);
    };
    // Window descriptor: exponent 17 → 2^27 = 128 MiB (what `zstd --long=27` writes).
    const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 17 << 3]), rawBlock(true), json]);
    const before = await jobsAdded(stack.web, 'events');
    const res = await fetch(`${base}/api/events/`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${u.apiKey}`, 'Content-Type': 'application/json', 'Content-Encoding': 'zstd' },
      body: frame,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'invalid_encoding', details: { window_bytes: 128 * MiB, limit_bytes: 8 * MiB } });
    expect(await jobsAdded(stack.web, 'events')).toBe(before);
  });
});

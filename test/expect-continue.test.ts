/**
 * `Expect: 100-continue` (libcurl, Crashpad): uploads refused on their headers are
 * answered before the body is sent; accepted ones get 100 Continue and proceed as usual.
 * Driven with raw node:http requests that wait for 'continue' before writing the body.
 */
import { MAX_BYTES } from './helpers/dumpsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { DataSource } from 'typeorm';
import { createProjectWithKey, createUser, PASSWORD, pantiesEvent, type TestUser } from './helpers/factories.ts';
import { dumpBytes, dumpRows, sha256, uploadCredentials } from './helpers/dumps.ts';
import { buildMinidump } from './helpers/minidump.ts';
import { multipart } from './helpers/multipart.ts';
import { listen, startWeb } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let ds: DataSource;
let base: string;
let u: TestUser;
let creds: Awaited<ReturnType<typeof uploadCredentials>>;
beforeAll(async () => {
  stack = await startWeb();
  ds = stack.web.ds;
  base = await listen(stack.web);
  u = await createUser(ds);
  creds = await uploadCredentials(ds, stack.http, u.personal.id);
});
afterAll(async () => {
  await stack?.web.close();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Whether the server sent 100 Continue. */
  continued: boolean;
}

/**
 * POST with `Expect: 100-continue`: the body goes out only after 'continue'. A declared
 * length other than the body's is for requests that must be refused: were they continued,
 * the request is dropped (and reported as continued) rather than left waiting.
 */
function send(path: string, headers: Record<string, string>, body: Buffer, declaredLength = body.length): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(`${base}${path}`, {
      method: 'POST',
      agent: false,
      headers: { ...headers, Expect: '100-continue', 'Content-Length': String(declaredLength) },
    });
    req.on('continue', () => {
      continued = true;
      if (declaredLength === body.length) return void req.end(body);
      req.destroy();
      resolve({ status: 0, headers: {}, text: '', continued });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString(), continued });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const sentryAuth = (key: string) => ({ 'X-Sentry-Auth': `Sentry sentry_version=7, sentry_client=test/1.0, sentry_key=${key}` });
const dumpForm = (data: Buffer, fields: Record<string, string> = {}) =>
  multipart([...Object.entries(fields).map(([name, value]) => ({ name, value })), { name: 'file', filename: 'crash.dmp', data }]);
const crash = () =>
  buildMinidump({
    platform: 2,
    arch: 9,
    exception: { threadId: 1, code: 0xc0000005, address: 0xdeadbeefn },
    modules: ['C:\\app\\app.exe'],
  });
const dumpCount = async (projectId: number) => (await dumpRows(ds, projectId)).length;

function expectRefused(a: Answer, status: number, code: string) {
  expect({ status: a.status, continued: a.continued }).toEqual({ status, continued: false });
  const body = JSON.parse(a.text);
  expect(Object.keys(body).sort()).toEqual(['code', 'details', 'error']);
  expect(body).toMatchObject({ error: expect.any(String), code });
  // The body was never sent, so the connection cannot be reused: Node closes it.
  expect(a.headers.connection).toBe('close');
}

describe('POST /api/dumps/ with Expect: 100-continue', () => {
  const form = dumpForm(dumpBytes(64 * 1024, 7));
  const post = (headers: Record<string, string>, query = '', declared?: number) =>
    send(`/api/dumps/${query}`, { 'Content-Type': form.contentType, ...headers }, form.body, declared);

  it.each([
    [
      'no credentials, naming a project that takes no anonymous dumps',
      () => post({}, `?project=${u.personal.id}`),
      401,
      'authentication_required',
    ],
    ['an unknown API key', () => post(bearer('flk_' + 'x'.repeat(32))), 401, 'invalid_api_key'],
    ['a malformed Authorization header', () => post({ Authorization: 'Basic dXNlcjpwdw==' }), 401, 'authentication_required'],
    ['an invalid JWT', () => post(bearer('not.a.jwt')), 401, 'token_invalid'],
    ['a key without dumps:upload', () => post(bearer(u.apiKey)), 403, 'scope_missing'],
    ['a machine token naming another project', () => post(bearer(creds.machine), '?project=2147483000'), 403, 'wrong_project'],
    ['a declared Content-Length past the limit', () => post(bearer(creds.machine), '', 4 * MAX_BYTES), 413, 'payload_too_large'],
  ])('when refused for %s: the 4xx comes without 100 Continue and nothing is stored', async (_what, run, status, code) => {
    const before = await dumpCount(u.personal.id);
    expectRefused(await run(), status, code);
    expect(await dumpCount(u.personal.id)).toBe(before);
  });

  it('a user naming a project they cannot see gets its 404 before the body', async () => {
    const other = await createUser(ds);
    expectRefused(await post(bearer(other.access), `?project=${u.personal.id}`), 404, 'not_found');
  });

  it.each([
    ['a machine token', () => creds.machine],
    ['an API key with dumps:upload', () => creds.secret],
    ['a user token', () => u.access],
  ])('accepted with %s: 100 Continue, then 201 and the dump is stored', async (_what, token) => {
    const data = dumpBytes(200_000, 11);
    const f = dumpForm(data, { label: 'expect-continue' });
    const a = await send('/api/dumps/', { 'Content-Type': f.contentType, ...bearer(token()) }, f.body);
    expect({ status: a.status, continued: a.continued }).toEqual({ status: 201, continued: true });
    const dump = JSON.parse(a.text);
    expect(dump).toMatchObject({ project: u.personal.id, size: data.length, sha256: sha256(data), label: 'expect-continue' });
    expect((await dumpRows(ds, u.personal.id)).map((r) => r.id)).toContain(dump.id);
  });

  it('anonymous uploads that name their project in the form still get 100 Continue', async () => {
    const { project } = await createProjectWithKey(ds, u.user, 'Open crashes');
    await ds.query(`UPDATE projects SET settings = '{"allowAnonymousDumps": true}' WHERE id = $1`, [project.id]);
    try {
      const f = dumpForm(Buffer.from('anonymous dump'), { project: String(project.id) });
      const a = await send('/api/dumps/', { 'Content-Type': f.contentType }, f.body);
      expect({ status: a.status, continued: a.continued }).toEqual({ status: 201, continued: true });
      expect(JSON.parse(a.text)).toMatchObject({ project: project.id, uploader: { kind: 'anonymous' } });
    } finally {
      await ds.query(`UPDATE projects SET settings = '{}' WHERE id = $1`, [project.id]);
    }
  });

  it('the server closes the connection after a refusal: a client that never sends the body is not left waiting', async () => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => (received += chunk));
    const ended = new Promise<void>((resolve, reject) => {
      socket.on('end', resolve);
      socket.setTimeout(10_000, () => reject(new Error('the server left the connection open')));
    });
    socket.write(
      `POST /api/dumps/?project=${u.personal.id} HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n` +
        `Content-Type: ${form.contentType}\r\nContent-Length: ${form.body.length}\r\n\r\n`,
    );
    try {
      await ended; // the server's FIN, though we neither sent the body nor closed our side
    } finally {
      socket.destroy();
    }
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
    expect(received).not.toContain('100 Continue');
  });
});

describe('Sentry endpoints with Expect: 100-continue', () => {
  const minidumpForm = () => multipart([{ name: 'upload_file_minidump', filename: 'crash.dmp', data: crash() }]);

  it.each([
    ['no key', () => ({}), 401, 'authentication_required'],
    ['an unknown key', () => sentryAuth('flk_' + 'y'.repeat(32)), 401, 'invalid_api_key'],
    ['a key without the ingest scope', () => sentryAuth(creds.secret), 403, 'scope_missing'],
  ])('minidump refused for %s: the 4xx without 100 Continue, nothing stored', async (_what, headers, status, code) => {
    const f = minidumpForm();
    const before = await dumpCount(u.personal.id);
    const a = await send(`/api/${u.personal.id}/minidump/`, { 'Content-Type': f.contentType, ...headers() }, f.body);
    expectRefused(a, status, code);
    expect(a.headers['x-sentry-error']).toEqual(expect.any(String));
    expect(await dumpCount(u.personal.id)).toBe(before);
  });

  it('minidump refused for a key of another project (403) and a declared length past the limit (413)', async () => {
    const other = await createUser(ds);
    const f = minidumpForm();
    expectRefused(
      await send(`/api/${u.personal.id}/minidump/`, { 'Content-Type': f.contentType, ...sentryAuth(other.apiKey) }, f.body),
      403,
      'wrong_project',
    );
    const raw = crash();
    const big = await send(
      `/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`,
      { 'Content-Type': 'application/octet-stream' },
      raw,
      4 * MAX_BYTES,
    );
    expectRefused(big, 413, 'payload_too_large');
  });

  it('minidump accepted (multipart, key in the query): 100 Continue, then 200 and the dump is stored', async () => {
    const f = minidumpForm();
    const a = await send(`/api/${u.personal.id}/minidump/?sentry_key=${u.apiKey}`, { 'Content-Type': f.contentType }, f.body);
    expect({ status: a.status, continued: a.continued }).toEqual({ status: 200, continued: true });
    const eventId = a.text.replaceAll('-', '');
    const [row] = await ds.query('SELECT id FROM crash_dumps WHERE project_id = $1 AND label = $2', [u.personal.id, eventId]);
    expect(row).toBeDefined();
  });

  const envelopeWithDump = (eventId: string, header: Record<string, unknown> = {}) => {
    const dump = crash();
    return Buffer.concat([
      Buffer.from(JSON.stringify({ event_id: eventId, ...header }) + '\n'),
      Buffer.from(
        JSON.stringify({ type: 'event' }) +
          '\n' +
          JSON.stringify({ event_id: eventId, level: 'fatal', message: 'native crash', platform: 'native' }) +
          '\n',
      ),
      Buffer.from(
        JSON.stringify({ type: 'attachment', length: dump.length, attachment_type: 'event.minidump', filename: 'upload.dmp' }) + '\n',
      ),
      dump,
      Buffer.from('\n'),
    ]);
  };

  it("envelope refused for a bad key in the headers (401) or a declared length past Sentry's limit (413)", async () => {
    const body = envelopeWithDump('cd'.repeat(16));
    expectRefused(await send(`/api/${u.personal.id}/envelope/`, sentryAuth('flk_' + 'z'.repeat(32)), body), 401, 'invalid_api_key');
    expectRefused(
      await send(`/api/${u.personal.id}/envelope/`, { ...sentryAuth(u.apiKey), 'Content-Encoding': 'gzip' }, body, 21 << 20),
      413,
      'payload_too_large',
    );
  });

  it.each([
    ['in X-Sentry-Auth', 'ef', true],
    ["only in the envelope header's DSN", '12', false],
  ])('envelope accepted with the key %s: 100 Continue, then 200 and the attached dump is stored', async (_what, hex, inHeader) => {
    const eventId = hex.repeat(16);
    const body = envelopeWithDump(eventId, inHeader ? {} : { dsn: `http://${u.apiKey}@localhost/${u.personal.id}` });
    const a = await send(`/api/${u.personal.id}/envelope/`, inHeader ? sentryAuth(u.apiKey) : {}, body);
    expect({ status: a.status, continued: a.continued }).toEqual({ status: 200, continued: true });
    expect(JSON.parse(a.text)).toEqual({ id: eventId });
    const [row] = await ds.query('SELECT original_name FROM crash_dumps WHERE project_id = $1 AND label = $2', [u.personal.id, eventId]);
    expect(row).toEqual({ original_name: 'upload.dmp' });
  });
});

describe('other routes with Expect: 100-continue', () => {
  it('the lean ingest path: 100 Continue, then its usual 202', async () => {
    const a = await send(
      '/api/events/',
      { 'Content-Type': 'application/json', ...bearer(u.apiKey) },
      Buffer.from(JSON.stringify(pantiesEvent())),
    );
    expect({ status: a.status, continued: a.continued }).toEqual({ status: 202, continued: true });
  });

  it('an Express route: 100 Continue, then its usual answer, refusals included', async () => {
    const login = await send(
      '/api/auth/login/',
      { 'Content-Type': 'application/json' },
      Buffer.from(JSON.stringify({ email: u.user.email, password: PASSWORD })),
    );
    expect({ status: login.status, continued: login.continued }).toEqual({ status: 200, continued: true });
    const bad = await send(
      '/api/auth/login/',
      { 'Content-Type': 'application/json' },
      Buffer.from(JSON.stringify({ email: u.user.email, password: 'wrong' })),
    );
    expect({ status: bad.status, continued: bad.continued }).toEqual({ status: 401, continued: true });
  });
});

/**
 * Issue 12: source maps through the real `sentry-cli` (the @sentry/cli npm package's
 * binary), for a bundle this test builds with `esbuild --minify --sourcemap`, and an
 * error thrown from that bundle reported by the real @sentry/node.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { addMember } from './helpers/logs.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { buildBundle, CART, crashInBundle as crashOf, sentryCli as cliOf } from './helpers/bundle.ts';
import { expectError } from './helpers/errors.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
let dir: string;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-maps-'));
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (u: TestUser, p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`);
const build = (name: string, cart?: string) => buildBundle(dir, name, cart);
const sentryCli = (u: TestUser, token: string, args: string[], cwd: string) => cliOf(base, u, token, args, cwd);
const crashInBundle = (u: TestUser, root: string, release: string) => crashOf(base, u, root, release);

async function tokenFor(u: TestUser, projects = [u.personal.id]): Promise<string> {
  const r = await stack.http.post('/api/auth-tokens/').set('Authorization', `Bearer ${u.access}`).send({ name: 'ci', projects });
  expect(r.status).toBe(201);
  expect(r.body.token).toMatch(/^flt_[0-9A-Za-z]{40}$/);
  return r.body.token;
}

const latestOf = async (u: TestUser, count = 1) => {
  const issue = await eventually(async () => {
    const list = (await get(u, `/api/issues/?project=${u.personal.id}`)).body.results;
    return list.length === 1 && list[0].times_seen === count ? list[0] : null;
  });
  return { issue, event: (await get(u, `/api/issues/${issue.id}/events/latest/`)).body };
};
const bundleFrames = (event: { data: { exceptions: Array<{ frames: Array<Record<string, any>> }> } }) =>
  event.data.exceptions[0].frames.filter((f) => f.minified || /bundle\.mjs$/.test(f.abs_path ?? f.filename ?? ''));

describe('sentry-cli sourcemaps inject + upload, then an error from the bundle', () => {
  it('maps the frames to the original file, line, column and function, with source context, at ingest', async () => {
    const u = await createUser(stack.web.ds);
    const token = await tokenFor(u);
    const root = await build('debug-ids');
    await sentryCli(u, token, ['sourcemaps', 'inject', 'dist'], root);
    expect(readFileSync(path.join(root, 'dist/bundle.mjs'), 'utf8')).toMatch(/debugId=/);
    // The release workflow: create, upload, finalize.
    await sentryCli(u, token, ['releases', 'new', 'shop@3.0.0'], root);
    const upload = await sentryCli(u, token, ['sourcemaps', 'upload', '--release', 'shop@3.0.0', 'dist'], root);
    expect(upload.stdout).toMatch(/File processing complete/);
    await sentryCli(u, token, ['releases', 'finalize', 'shop@3.0.0'], root);
    const release = (await get(u, `/api/projects/${u.personal.id}/releases/shop@3.0.0/`)).body;
    expect(release.date_released).not.toBeNull();

    await crashInBundle(u, root, 'shop@3.0.0');
    const { issue, event } = await latestOf(u);
    const frames = bundleFrames(event);
    const top = frames.at(-1)!;
    expect(top).toMatchObject({
      filename: 'src/cart.js',
      lineno: 4,
      function: 'priceOf',
      context_line: "    throw new TypeError('no price for ' + item.name);",
      pre_context: expect.arrayContaining(['export function priceOf(item) {', '  if (!item.price) {']),
      post_context: expect.arrayContaining(['  return item.price;']),
      in_app: true,
      minified: { lineno: expect.any(Number), colno: expect.any(Number), filename: expect.stringMatching(/dist\/bundle\.mjs$/) },
    });
    expect(top.debug_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(frames.map((f) => f.filename)).toEqual(expect.arrayContaining(['src/cart.js', 'src/main.js']));
    expect(frames.find((f) => f.filename === 'src/cart.js' && f.lineno === 10)).toMatchObject({ function: 'checkout' });
    // Grouping and the culprit use the original names; so does the readable text.
    expect(issue.culprit).toBe('src/cart.js in priceOf');
    expect(event.stacktrace).toMatch(/File "src\/cart.js", line 4:\d+, in priceOf/);
    expect(event.mapped_at_view).toBeUndefined();
  });

  it('maps uploaded after the event apply when the event is viewed', async () => {
    const u = await createUser(stack.web.ds);
    const token = await tokenFor(u);
    const root = await build('late', CART.replace("'no price for '", "'missing price: '"));
    await sentryCli(u, token, ['sourcemaps', 'inject', 'dist'], root);
    await crashInBundle(u, root, 'shop@4.0.0');
    const before = (await latestOf(u)).event;
    expect(bundleFrames(before).every((f) => !f.minified)).toBe(true);

    await sentryCli(u, token, ['sourcemaps', 'upload', '--release', 'shop@4.0.0', 'dist'], root);
    const { event: after } = await latestOf(u);
    expect(after.mapped_at_view).toBe(true);
    expect(bundleFrames(after).at(-1)).toMatchObject({ filename: 'src/cart.js', lineno: 4, function: 'priceOf' });
  });

  it('without debug ids, the release and the ~/ path find the map', async () => {
    const u = await createUser(stack.web.ds);
    const token = await tokenFor(u);
    const root = await build('by-release');
    await sentryCli(u, token, ['sourcemaps', 'upload', '--release', 'shop@5.0.0', 'dist'], root);
    await crashInBundle(u, root, 'shop@5.0.0');
    const { event } = await latestOf(u);
    expect(bundleFrames(event).at(-1)).toMatchObject({ filename: 'src/cart.js', lineno: 4, function: 'priceOf' });
    expect(bundleFrames(event).at(-1)!.debug_id).toBeUndefined();
  });
});

describe('chunk upload and assemble, by hand', () => {
  it('a chunk must match its SHA-1; a bundle that is not an artifact bundle is an error state and records nothing', async () => {
    const u = await createUser(stack.web.ds);
    const auth = { Authorization: `Bearer ${await tokenFor(u)}` };
    const junk = Buffer.from('definitely not a zip file');
    const sha1 = createHash('sha1').update(junk).digest('hex');
    const wrong = await stack.http
      .post('/api/0/organizations/x/chunk-upload/')
      .set(auth)
      .attach('file_gzip', gzipSync(junk), 'f'.repeat(40));
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'invalid_chunk', details: [{ path: 'file' }] });
    const ok = await stack.http.post('/api/0/organizations/x/chunk-upload/').set(auth).attach('file_gzip', gzipSync(junk), sha1);
    expect(ok.status).toBe(200);
    const assemble = (checksum: string) =>
      stack.http
        .post('/api/0/organizations/x/artifactbundle/assemble/')
        .set(auth)
        .send({ checksum, chunks: [sha1], projects: [u.personal.slug] });
    expect((await assemble('0'.repeat(40))).body).toMatchObject({ state: 'error', detail: 'the chunks do not add up to the checksum' });
    expect((await assemble(sha1)).body).toMatchObject({ state: 'error', detail: expect.stringMatching(/^not an artifact bundle/) });
    expect(await stack.web.ds.query(`SELECT count(*)::int AS n FROM artifact_bundles WHERE project_id = $1`, [u.personal.id])).toEqual([
      { n: 0 },
    ]);
    const options = (await stack.http.get('/api/0/organizations/x/chunk-upload/').set(auth)).body;
    expect(options).toMatchObject({
      chunkSize: 8 * 1024 * 1024,
      hashAlgorithm: 'sha1',
      compression: ['gzip'],
      accept: expect.arrayContaining(['artifact_bundles']),
    });
  });
});

describe('auth tokens', () => {
  it('are hashed at rest, scoped to projects, shown once, revocable', async () => {
    const u = await createUser(stack.web.ds);
    const other = await createProjectWithKey(stack.web.ds, u.user, 'Other');
    const token = await tokenFor(u);
    const [row] = await stack.web.ds.query(`SELECT token_hash, prefix FROM auth_tokens WHERE user_id = $1`, [u.user.id]);
    expect(row.token_hash).not.toContain(token.slice(4));
    expect(token.startsWith(row.prefix)).toBe(true);
    const listed = (await get(u, '/api/auth-tokens/')).body.results;
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(token);

    const auth = { Authorization: `Bearer ${token}` };
    const body = { checksum: 'a'.repeat(40), chunks: ['a'.repeat(40)], projects: [other.project.slug] };
    // Another project of the same user: not in the token's scope → 404.
    expect((await stack.http.post('/api/0/organizations/x/artifactbundle/assemble/').set(auth).send(body)).status).toBe(404);
    const mine = await stack.http
      .post('/api/0/organizations/x/artifactbundle/assemble/')
      .set(auth)
      .send({ ...body, projects: [u.personal.slug] });
    expect(mine.body).toEqual({ state: 'not_found', missingChunks: ['a'.repeat(40)], detail: null });
    // A JWT or an API key is not an auth token.
    expect((await stack.http.get('/api/0/organizations/x/chunk-upload/').set('Authorization', `Bearer ${u.access}`)).status).toBe(401);
    expect((await stack.http.get('/api/0/organizations/x/chunk-upload/').set('Authorization', `Bearer ${u.apiKey}`)).status).toBe(401);
    // A bad body is a 400 naming the field.
    const bad = await stack.http
      .post('/api/0/organizations/x/artifactbundle/assemble/')
      .set(auth)
      .send({ ...body, checksum: 'nope' });
    expectError(bad, 400, 'validation_error');
    expect(bad.body.details[0].path).toBe('checksum');

    await stack.http.delete(`/api/auth-tokens/${listed[0].id}/`).set('Authorization', `Bearer ${u.access}`).expect(204);
    expect((await stack.http.get('/api/0/organizations/x/chunk-upload/').set(auth)).status).toBe(401);
  });

  it('carry no more than their user: a viewer cannot make one for the project; a member losing access loses the token', async () => {
    const owner = await createUser(stack.web.ds);
    const viewer = await createUser(stack.web.ds);
    const member = await createUser(stack.web.ds);
    await addMember(stack.web.ds, owner.personal.id, viewer.user.id, 'viewer');
    await addMember(stack.web.ds, owner.personal.id, member.user.id, 'member');
    expect(
      (
        await stack.http
          .post('/api/auth-tokens/')
          .set('Authorization', `Bearer ${viewer.access}`)
          .send({ projects: [owner.personal.id] })
      ).status,
    ).toBe(403);
    expectError(
      await stack.http.post('/api/auth-tokens/').set('Authorization', `Bearer ${viewer.access}`).send({ projects: [] }),
      400,
      'validation_error',
    );
    const token = await tokenFor(member, [owner.personal.id]);
    const assemble = () =>
      stack.http
        .post('/api/0/organizations/x/artifactbundle/assemble/')
        .set('Authorization', `Bearer ${token}`)
        .send({ checksum: 'b'.repeat(40), chunks: [], projects: [owner.personal.slug] });
    expect((await assemble()).status).toBe(200);
    await stack.web.ds.query(`DELETE FROM project_members WHERE project_id = $1 AND user_id = $2`, [owner.personal.id, member.user.id]);
    expect((await assemble()).status).toBe(404);
  });
});

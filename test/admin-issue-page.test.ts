/**
 * Issue 12: the admin's issue page in a real browser (Debian's headless Chromium), for an
 * issue made by the real @sentry/node from a minified bundle whose maps the real
 * sentry-cli uploaded: frames (source-mapped beside minified), breadcrumbs, facets, the
 * assign / resolve actions, older/newer navigation, and no page errors. A viewer reads
 * but cannot triage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import { addMember } from './helpers/logs.ts';
import { launchBrowser, login, shot } from './helpers/adminBrowser.ts';
import { buildBundle, crashInBundle, sentryCli } from './helpers/bundle.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let base: string;
let dir: string;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let owner: TestUser;
let member: TestUser;
let viewer: TestUser;
let issueId: number;

const get = (u: TestUser, p: string) => stack.http.get(p).set('Authorization', `Bearer ${u.access}`);

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  base = await listen(stack.web);
  dir = mkdtempSync(path.join(tmpdir(), 'faultline-page-'));
  owner = await createUser(stack.web.ds);
  member = await createUser(stack.web.ds);
  viewer = await createUser(stack.web.ds);
  await addMember(stack.web.ds, owner.personal.id, member.user.id, 'member');
  await addMember(stack.web.ds, owner.personal.id, viewer.user.id, 'viewer');

  const token = (
    await stack.http
      .post('/api/auth-tokens/')
      .set('Authorization', `Bearer ${owner.access}`)
      .send({ projects: [owner.personal.id] })
  ).body.token;
  const root = await buildBundle(dir, 'app');
  await sentryCli(base, owner, token, ['sourcemaps', 'inject', 'dist'], root);
  await sentryCli(base, owner, token, ['sourcemaps', 'upload', '--release', 'shop@7.0.0', 'dist'], root);
  const setup = `Sentry.setTag('tenant', 'acme'); Sentry.setUser({ id: 'ada' });
Sentry.addBreadcrumb({ category: 'cart', message: 'added a pear', level: 'info' });`;
  // Two events, so there is an older one to go to.
  await crashInBundle(base, owner, root, 'shop@7.0.0', setup);
  await crashInBundle(base, owner, root, 'shop@7.0.0', setup.replace("'ada'", "'bob'"));
  const issue = await eventually(async () => {
    const list = (await get(owner, `/api/issues/?project=${owner.personal.id}`)).body.results;
    return list.length === 1 && list[0].times_seen === 2 ? list[0] : null;
  });
  issueId = issue.id;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.close();
  await stack?.web.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openIssue(u: TestUser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await browser.context.clearCookies();
  await login(page, base, u.user.email);
  await page.goto(`${base}/admin/resources/Issue/records/${issueId}/show`);
  await page.waitForSelector('[data-issue-page="ready"]');
  return { page, errors };
}

describe('the issue page', () => {
  it('shows what it takes to fix the bug, and its workflow works', async () => {
    const { page, errors } = await openIssue(member);
    expect(await page.textContent('[data-issue-title]')).toBe('TypeError: no price for pear');
    expect(await page.textContent('[data-issue-culprit]')).toBe('src/cart.js in priceOf');
    expect(await page.getAttribute('[data-handled]', 'data-handled')).toBe('true');
    expect(await page.textContent('[data-count="events"]')).toBe('2');
    expect(await page.textContent('[data-count="users"]')).toBe('2');

    // Frames: in-app highlighted, source-mapped with the minified position beside, original source as context.
    const top = page.locator('[data-frame][data-in-app="true"]').first();
    expect(await top.locator('[data-frame-location]').textContent()).toMatch(/^src\/cart\.js:4:\d+$/);
    expect(await top.locator('[data-frame-function]').textContent()).toBe('priceOf');
    expect(await top.locator('[data-minified]').textContent()).toMatch(/minified: bundle\.mjs:\d+:\d+/);
    expect(await top.locator('[data-context-line="current"]').textContent()).toContain("throw new TypeError('no price for ' + item.name);");
    expect(await page.locator('[data-mechanism]').first().textContent()).toMatch(/handled/);

    expect(await page.locator('[data-breadcrumb="cart"]').textContent()).toContain('added a pear');
    expect(await page.getAttribute('[data-facet="release"] [data-facet-value="shop@7.0.0"]', 'data-share')).toBe('100');
    expect(await page.getAttribute('[data-facet="tenant"] [data-facet-value="acme"]', 'data-share')).toBe('100');
    expect(await page.locator('[data-chart="frequency-24h"] rect').count()).toBe(24);
    await page.click('[data-period="30d"]');
    expect(await page.locator('[data-chart="frequency-30d"] rect').count()).toBe(30);
    expect(await page.locator('[data-kv="user"]').textContent()).toContain('bob');
    await shot(page, 'issue-page');

    // Older / newer.
    const latest = await page.getAttribute('[data-event-id]', 'data-event-id');
    await page.click('[data-nav="older"]');
    await page.waitForFunction(
      (id) => (globalThis as any).document.querySelector('[data-event-id]')?.getAttribute('data-event-id') !== id,
      latest,
    );
    expect(await page.locator('[data-kv="user"]').textContent()).toContain('ada');
    await page.click('[data-nav="newer"]');
    await page.waitForFunction(
      (id) => (globalThis as any).document.querySelector('[data-event-id]')?.getAttribute('data-event-id') === id,
      latest,
    );

    // Assign to the owner, then resolve; both logged.
    await page.selectOption('[data-input="assignee"]', String(owner.user.id));
    await page.waitForSelector('[data-activity="assigned"]');
    await page.click('[data-action="resolve"]');
    await page.waitForSelector('[data-issue-status="resolved"]');
    const after = (await get(owner, `/api/issues/${issueId}/`)).body;
    expect(after).toMatchObject({ status: 'resolved', assignee: owner.user.id });
    const kinds = (await get(owner, `/api/issues/${issueId}/activity/`)).body.results.map((a: { kind: string; user: { id: number } }) => [
      a.kind,
      a.user.id,
    ]);
    expect(kinds as unknown).toEqual([
      ['resolved', member.user.id],
      ['assigned', member.user.id],
    ]);
    await page.click('[data-action="reopen"]');
    await page.waitForSelector('[data-issue-status="unresolved"]');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a viewer reads it but cannot triage, not even by posting the action by hand', async () => {
    const { page, errors } = await openIssue(viewer);
    await page.waitForSelector('[data-readonly]');
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await page.isDisabled('[data-input="assignee"]')).toBe(true);
    const status = await page.evaluate(async (id) => {
      const r = await fetch(`/admin/api/resources/Issue/records/${id}/triage`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ status: 'ignored' }),
      });
      return ((await r.json()) as { notice?: { type: string } }).notice?.type ?? r.status;
    }, issueId);
    expect(status).toBe('error');
    expect((await get(owner, `/api/issues/${issueId}/`)).body.status).toBe('unresolved');
    expect(errors).toEqual([]);
    await page.close();
  });

  it("a release's page shows its health: crash-free sessions and users, new issues", async () => {
    // Each run of the app was one session of shop@7.0.0 (errored, not crashed), of users ada and bob.
    const release = await eventually(async () => {
      const r = (await get(owner, `/api/projects/${owner.personal.id}/releases/shop@7.0.0/`)).body;
      return r.health?.sessions === 2 ? r : null;
    });
    expect(release.health).toMatchObject({
      sessions: 2,
      sessions_errored: 2,
      sessions_crashed: 0,
      crash_free_sessions: 100,
      users: 2,
      crash_free_users: 100,
    });
    const [{ id }] = await stack.web.ds.query(`SELECT id FROM releases WHERE project_id = $1 AND version = 'shop@7.0.0'`, [
      owner.personal.id,
    ]);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await browser.context.clearCookies();
    await login(page, base, viewer.user.email);
    await page.goto(`${base}/admin/resources/Release/records/${id}/show`);
    await page.waitForSelector('[data-release-page="ready"]');
    expect(await page.textContent('[data-health="crash-free-sessions"]')).toBe('100%');
    expect(await page.textContent('[data-health="crash-free-users"]')).toBe('100%');
    expect(await page.textContent('[data-health="new-issues"]')).toBe('1');
    expect(await page.locator('[data-environment]').count()).toBeGreaterThan(0);
    await shot(page, 'release-page');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a stranger finds nothing', async () => {
    const stranger = await createUser(stack.web.ds);
    const page = await browser.context.newPage();
    await browser.context.clearCookies();
    await login(page, base, stranger.user.email);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes(`/admin/api/resources/Issue/records/${issueId}/`)),
      page.goto(`${base}/admin/resources/Issue/records/${issueId}/show`),
    ]);
    expect([404, 200]).toContain(res.status());
    expect(await page.locator('[data-issue-page="ready"]').count()).toBe(0);
    const api = await page.evaluate(async (id) => {
      const r = await fetch(`/admin/api/resources/Issue/records/${id}/triage`);
      return (await r.json()) as Record<string, unknown>;
    }, issueId);
    // AdminJS answers a record outside the admin's scope as "not found", with nothing of it.
    expect(api).toMatchObject({ record: { params: {}, baseError: { type: 'NotFoundError' } }, notice: { type: 'error' } });
    expect(api.page).toBeUndefined();
    await page.close();
  });
});

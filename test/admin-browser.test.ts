/**
 * The back-office in a real browser (Debian's headless Chromium): what a staff member and
 * a viewer see and can do. Permission rules in detail are in admin-access.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Worker } from 'bullmq';
import type { Page } from 'playwright-core';
import type { Web } from '../src/api/index.ts';
import { workerConnection } from '../src/queues/connection.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { addMember } from './helpers/logs.ts';
import { env, eventually, listen, startWeb } from './helpers/stack.ts';
import { launchBrowser, login, shot } from './helpers/adminBrowser.ts';
import { seedProject } from './helpers/adminData.ts';

let web: Web;
let base: string;
let staff: TestUser;
let viewer: TestUser;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let mine: number; // a project the viewer may read
let theirs: number; // one they may not
let failedJobId: string;

async function failedJob(): Promise<string> {
  const queue = web.queues.events;
  const connection = workerConnection(env().redisUrl);
  const worker = new Worker(queue.name, async () => Promise.reject(new Error('boom: the database said no')), {
    connection,
    prefix: queue.opts.prefix,
  });
  const job = await queue.add('store-events', { items: [] }, { attempts: 1 });
  await eventually(async () => (await job.getState()) === 'failed');
  await worker.close();
  await connection.quit();
  return job.id!;
}

beforeAll(async () => {
  ({ web } = await startWeb());
  base = await listen(web);
  staff = await createUser(web.ds, { isStaff: true });
  viewer = await createUser(web.ds);
  const owner = await createUser(web.ds);
  mine = (await createProjectWithKey(web.ds, owner.user, 'Readable')).project.id;
  theirs = (await createProjectWithKey(web.ds, owner.user, 'Secret stuff')).project.id;
  await addMember(web.ds, mine, viewer.user.id, 'viewer');
  await seedProject(web.ds, mine, 'mine');
  await seedProject(web.ds, theirs, 'theirs');
  failedJobId = await failedJob();
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
});

const firstId = async (sql: string, params: unknown[]) => String((await web.ds.query(sql, params))[0].id);

describe('the admin in a browser', () => {
  it('staff sign in and see the dashboard charts', async () => {
    await login(page, base, staff.user.email);
    await page.waitForSelector('[data-dashboard="ready"]');
    expect(await page.locator('svg[data-chart="errors-by-hour"] rect[data-series]').count()).toBeGreaterThan(0);
    expect(await page.locator('svg[data-chart="logs-by-day"] rect[data-series]').count()).toBeGreaterThan(0);
    // Staff see every project, and other test files write LLM calls too: look for this file's models.
    const bars = await page.locator('[data-chart="llm-calls-by-model"] [data-bar]').all();
    const models = await Promise.all(bars.map((b) => b.getAttribute('data-bar')));
    expect(models).toEqual(expect.arrayContaining(['gpt-4o', 'claude-sonnet']));
    expect(await page.locator('[data-chart="queue-health"] tbody tr').count()).toBeGreaterThan(0);
    await shot(page, 'dashboard');
  });

  it('staff open every resource list and a record', async () => {
    for (const id of [
      'Event',
      'Log',
      'Issue',
      'LlmLog',
      'CrashDump',
      'Project',
      'ProjectMember',
      'ApiKey',
      'User',
      'UserFilterPreference',
    ]) {
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/admin/api/resources/${id}/actions/list`)),
        page.goto(`${base}/admin/resources/${id}`),
      ]);
      const body = (await res.json()) as { notice?: { type: string }; records: unknown[] };
      expect([id, body.notice?.type]).toEqual([id, undefined]);
    }
    await page.goto(`${base}/admin/resources/Event`);
    await page.waitForSelector('table tbody tr');
    await shot(page, 'events');

    const event = await firstId(`SELECT id FROM events WHERE project_id = $1 AND exception_type = 'ValueError'`, [mine]);
    await page.goto(`${base}/admin/resources/Event/records/${event}/show`);
    expect(await page.textContent('pre[data-code="stacktrace"]')).toContain('Traceback (most recent call last)');
    expect(JSON.parse((await page.textContent('pre[data-json="tags"]'))!)).toMatchObject({ severity: 'high' });
    expect(await page.locator('[data-css="Event-edit-button"]').count()).toBe(1);
    await shot(page, 'event');
  });

  it('filter events by level', async () => {
    // Within this file's projects: other test files write critical events into the same database.
    await page.goto(`${base}/admin/resources/Event?filters.level=critical&filters.projectId=${mine}`);
    await page.waitForSelector('table tbody tr');
    expect(await page.locator('table tbody [data-level]').allTextContents()).toEqual(['critical']);
    await page.goto(`${base}/admin/resources/Event?filters.level=warning&filters.projectId=${theirs}`);
    await page.waitForSelector('table tbody tr');
    expect(await page.locator('table tbody [data-level]').allTextContents()).toEqual(['warning']);
  });

  it('create a project, then a key: each secret is shown once', async () => {
    await page.goto(`${base}/admin/resources/Project/actions/new`);
    await page.fill('input[name="name"]', 'Browser made');
    await page.click('button[type="submit"]');
    const projectSecret = await page.textContent('[data-secret]');
    expect(projectSecret).toMatch(/^flk_\w+$/);
    await page.reload();
    await page.waitForSelector('text=Browser made');
    expect(await page.locator('[data-secret]').count()).toBe(0);

    await page.goto(`${base}/admin/resources/ApiKey/actions/new`);
    await page.fill('input[name="name"]', 'from the admin');
    const select = page.locator('input[id^="react-select"]').first();
    await select.fill('Browser');
    await page.click('[class*="option"]:has-text("Browser made")');
    await page.click('button[type="submit"]');
    const secret = (await page.textContent('[data-secret]'))!;
    expect(secret).toMatch(/^flk_\w+$/);
    await shot(page, 'key-created');
    const [row] = await web.ds.query(
      `SELECT k.name, k.key_hash, p.name AS project FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.prefix = $1`,
      [secret.slice(0, 12)],
    );
    expect(row).toMatchObject({ name: 'from the admin', project: 'Browser made' });
    expect(row.key_hash).not.toContain(secret);
    await page.reload();
    await page.waitForSelector('text=from the admin');
    expect(await page.locator('[data-secret]').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
  });

  it('retry a failed job from the queue monitor', async () => {
    await page.goto(`${base}/admin/queues/queue/events?status=failed`);
    await page.waitForSelector('text=boom: the database said no');
    await shot(page, 'queues-failed');
    await page.click('button:has-text("Retry all")');
    await page
      .getByRole('button', { name: /^(confirm|yes|retry)/i })
      .last()
      .click();
    await eventually(async () => (await web.queues.events.getJob(failedJobId))?.getState().then((s) => s !== 'failed'));
  });

  it("a viewer cannot open another project's record and gets no edit actions", async () => {
    await browser.context.clearCookies();
    await login(page, base, viewer.user.email);
    const foreign = await firstId(`SELECT id FROM events WHERE project_id = $1 AND kind = 'error' LIMIT 1`, [theirs]);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes(`/admin/api/resources/Event/records/${foreign}/show`)),
      page.goto(`${base}/admin/resources/Event/records/${foreign}/show`),
    ]);
    const body = (await res.json()) as { record: { params: object }; notice: { type: string } };
    expect(body.notice.type).toBe('error');
    expect(body.record.params).toEqual({});
    expect(await page.content()).not.toContain('theirs');

    const own = await firstId(`SELECT id FROM events WHERE project_id = $1 AND exception_type = 'ValueError'`, [mine]);
    await page.goto(`${base}/admin/resources/Event/records/${own}/show`);
    await page.waitForSelector('pre[data-code="stacktrace"]');
    for (const name of ['edit', 'delete', 'archive']) expect(await page.locator(`[data-css="Event-${name}-button"]`).count()).toBe(0);
    await page.goto(`${base}/admin/resources/Event`);
    await page.waitForSelector('table tbody tr');
    expect(await page.content()).not.toContain('theirs');
    await shot(page, 'viewer-events');
  });
});

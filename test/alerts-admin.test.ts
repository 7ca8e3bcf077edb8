/**
 * Issue 13 in the back-office, in a real browser (Debian's headless Chromium): alert
 * channels (a webhook's secret shown once, the test action, the delivery log), rules
 * refused with the API's own validation, monitors with their runs, and tenancy — a
 * viewer reads their project's alerts, changes nothing, and never sees another's.
 */
import './helpers/alertsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Page } from 'playwright-core';
import type { Web } from '../src/api/index.ts';
import { createProjectWithKey, createUser, type TestUser } from './helpers/factories.ts';
import { addMember } from './helpers/logs.ts';
import { eventually, listen, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { launchBrowser, login, shot } from './helpers/adminBrowser.ts';
import { startReceiver } from './helpers/receiver.ts';

let web: Web;
let http: Awaited<ReturnType<typeof startWeb>>['http'];
let worker: TestWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let base: string;
let owner: TestUser;
let viewer: TestUser;
let project: number;
let foreignChannel: number;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;

beforeAll(async () => {
  ({ web, http } = await startWeb());
  worker = await startWorker();
  receiver = await startReceiver();
  base = await listen(web);
  owner = await createUser(web.ds);
  viewer = await createUser(web.ds);
  project = (await createProjectWithKey(web.ds, owner.user, 'Alerting')).project.id;
  await addMember(web.ds, project, viewer.user.id, 'viewer');
  const stranger = await createUser(web.ds);
  const res = await http
    .post(`/api/projects/${stranger.personal.id}/alert-channels/`)
    .set('Authorization', `Bearer ${stranger.access}`)
    .send({ name: 'foreign-hook', type: 'webhook', url: `${receiver.url}/foreign` });
  foreignChannel = res.body.id;
  await http
    .post(`/api/projects/${project}/monitors/`)
    .set('Authorization', `Bearer ${owner.access}`)
    .send({ slug: 'nightly-backup', schedule: { type: 'crontab', value: '0 3 * * *' } });
  browser = await launchBrowser();
  page = await browser.context.newPage();
});
afterAll(async () => {
  await browser?.close();
  await worker?.close();
  await web?.close();
  await receiver?.close();
});

async function pick(index: number, text: string, option = text) {
  const select = page.locator('input[id^="react-select"]').nth(index);
  await select.fill(text);
  await page.click(`[class*="option"]:has-text("${option}")`);
}

describe('alerts in the admin', () => {
  it('the owner creates a webhook channel (its secret shown once), sends a test notification and reads the delivery log', async () => {
    await login(page, base, owner.user.email);
    await page.goto(`${base}/admin/resources/AlertChannel/actions/new`);
    await pick(0, 'Alerting');
    await page.fill('input[name="name"]', 'ops hook');
    await pick(1, 'webhook');
    await page.fill('input[name="url"]', `${receiver.url}/admin-hook?token=s3cr3t-token`);
    await page.click('button[type="submit"]');
    const secret = (await page.textContent('[data-secret]'))!;
    expect(secret).toMatch(/^whsec_/);
    await shot(page, 'alert-channel-created');
    const [row] = await web.ds.query(`SELECT id, target_hint FROM alert_channels WHERE project_id = $1 AND name = 'ops hook'`, [project]);
    expect(row.target_hint).toMatch(/\/…oken$/);
    await page.reload();
    await page.waitForSelector('text=ops hook');
    expect(await page.locator('[data-secret]').count()).toBe(0);
    expect(await page.content()).not.toContain('s3cr3t-token');

    await page.goto(`${base}/admin/resources/AlertChannel/records/${row.id}/sendTest`);
    await page.click('[data-confirm="sendTest"] button');
    await eventually(async () => receiver.requests.some((r) => r.url.startsWith('/admin-hook')));
    expect((receiver.requests.find((r) => r.url.startsWith('/admin-hook'))!.json as { type: string }).type).toBe('alert.test');

    await eventually(
      async () => (await web.ds.query(`SELECT 1 FROM alert_deliveries WHERE channel_id = $1 AND outcome = 'sent'`, [row.id])).length === 1,
    );
    await page.goto(`${base}/admin/resources/AlertDelivery?filters.channelId=${row.id}`);
    await page.waitForSelector('table tbody tr');
    expect(await page.locator('table tbody tr').count()).toBe(1);
    expect(await page.textContent('table tbody')).toContain('Sent'); // the outcome's label
    await shot(page, 'alert-delivery-log');
  }, 180_000); // the first visit bundles the admin's components

  it('a rule the API would refuse is refused here too, with the field named and nothing saved', async () => {
    await page.goto(`${base}/admin/resources/AlertRule/actions/new`);
    await pick(0, 'Alerting');
    await page.fill('input[name="name"]', 'too eager');
    await pick(1, 'issue.frequency');
    await page.fill('textarea[name="paramsJson"]', '{"threshold": 5, "window_minutes": -5}');
    await page.click('button[type="submit"]');
    await page.waitForSelector('text=params.window_minutes');
    await shot(page, 'alert-rule-refused');
    expect(await web.ds.query(`SELECT 1 FROM alert_rules WHERE project_id = $1`, [project])).toEqual([]);

    await page.fill('textarea[name="paramsJson"]', '{"threshold": 5, "window_minutes": 10}');
    await page.click('button[type="submit"]');
    await eventually(
      async () => (await web.ds.query(`SELECT params FROM alert_rules WHERE project_id = $1 AND name = 'too eager'`, [project]))[0],
    );
    const [rule] = await web.ds.query(`SELECT trigger, params FROM alert_rules WHERE project_id = $1`, [project]);
    expect(rule).toEqual({ trigger: 'issue.frequency', params: { threshold: 5, window_minutes: 10 } });
  }, 120_000);

  it('monitors show their schedule and lead to their runs', async () => {
    await page.goto(`${base}/admin/resources/Monitor`);
    await page.waitForSelector('text=nightly-backup');
    await shot(page, 'monitors');
    const [m] = await web.ds.query(`SELECT id FROM monitors WHERE project_id = $1`, [project]);
    await page.goto(`${base}/admin/resources/MonitorCheckIn?filters.monitorId=${m.id}`);
    await page.waitForLoadState('networkidle');
    expect(await page.content()).not.toContain('Something went wrong');
  });

  it('a viewer reads the project’s alerts, may change nothing, and never sees another project’s channel', async () => {
    await browser.context.clearCookies();
    await login(page, base, viewer.user.email);
    for (const id of ['AlertRule', 'AlertChannel', 'AlertFiring', 'AlertDelivery', 'Monitor', 'MonitorCheckIn']) {
      const [res] = await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/admin/api/resources/${id}/actions/list`)),
        page.goto(`${base}/admin/resources/${id}`),
      ]);
      const body = (await res.json()) as { notice?: { type: string; message: string }; records?: Array<{ params: { projectId: number } }> };
      expect([id, body.notice, body.records?.every((r) => r.params.projectId === project)]).toEqual([id, undefined, true]);
    }
    const [ch] = await web.ds.query(`SELECT id FROM alert_channels WHERE project_id = $1`, [project]);
    await page.goto(`${base}/admin/resources/AlertChannel/records/${ch.id}/show`);
    await page.waitForSelector('text=ops hook');
    for (const name of ['edit', 'delete', 'sendTest'])
      expect(await page.locator(`[data-css="AlertChannel-${name}-button"]`).count()).toBe(0);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes(`/admin/api/resources/AlertChannel/records/${foreignChannel}/show`)),
      page.goto(`${base}/admin/resources/AlertChannel/records/${foreignChannel}/show`),
    ]);
    const body = (await res.json()) as { record: { params: object }; notice: { type: string } };
    expect(body.notice.type).toBe('error');
    expect(body.record.params).toEqual({});
    expect(await page.content()).not.toContain('foreign-hook');
  });
});

/**
 * Issue 13, SSRF: with ALERT_ALLOW_PRIVATE_TARGETS=false (the default), alert targets
 * on loopback, private, link-local, multicast or cloud-metadata addresses are refused
 * at creation, and again at send time against the address actually connected to — a
 * host name that resolves to 127.0.0.1 later (DNS rebinding) reaches nothing. A real
 * receiver listens on loopback to prove nothing arrives.
 */
import './helpers/privateTargetsOff.ts';
import './helpers/alertsEnv.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { config } from '../src/config.ts';
import { seal } from '../src/domain/alerts/seal.ts';
import { send } from '../src/domain/alerts/senders.ts';
import { addressAllowed } from '../src/domain/alerts/ssrf.ts';
import { eventually, startWeb, startWorker, type TestWorker } from './helpers/stack.ts';
import { createUser, type TestUser } from './helpers/factories.ts';
import { startReceiver, status } from './helpers/receiver.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
let worker: TestWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let u: TestUser;

beforeAll(async () => {
  stack = await startWeb();
  worker = await startWorker();
  receiver = await startReceiver();
  u = await createUser(stack.web.ds);
});
afterAll(async () => {
  await worker.close();
  await stack.web.close();
  await receiver.close();
});

const post = (p: string, b?: object) => stack.http.post(p).set('Authorization', `Bearer ${u.access}`).send(b);
const channels = () => `/api/projects/${u.personal.id}/alert-channels/`;

describe('at creation', () => {
  it('runs with private targets refused', () => expect(config.alerts.allowPrivateTargets).toBe(false));

  it.each([
    ['loopback', () => `${receiver.url}/hook`],
    ['loopback, another /8 address', () => 'http://127.8.9.10/hook'],
    ['IPv6 loopback', () => `http://[::1]:${receiver.port}/hook`],
    ['IPv4-mapped IPv6 loopback', () => 'http://[::ffff:127.0.0.1]/hook'],
    ['10/8', () => 'http://10.1.2.3/hook'],
    ['172.16/12', () => 'https://172.20.0.5/hook'],
    ['192.168/16', () => 'http://192.168.1.10:8080/hook'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 unique-local (AWS metadata over IPv6)', () => 'http://[fd00:ec2::254]/'],
    ['IPv6 link-local', () => 'http://[fe80::1]/'],
    ['multicast', () => 'http://224.0.0.251/'],
    ['the unspecified address', () => 'http://0.0.0.0:8080/'],
    ['carrier-grade NAT', () => 'http://100.100.100.200/'],
    ['a host name that resolves to 127.0.0.1', () => `http://localhost:${receiver.port}/hook`],
  ])('%s is refused: 400 naming url, nothing saved', async (_what, url) => {
    for (const type of ['webhook', 'slack', 'discord']) {
      const res = await post(channels(), { name: 'inside', type, url: url() });
      expect({ type, status: res.status }).toEqual({ type, status: 400 });
      expect(res.body.details).toEqual([{ path: 'url', message: expect.stringMatching(/ALERT_ALLOW_PRIVATE_TARGETS/) }]);
    }
    const [{ n }] = await stack.web.ds.query(`SELECT count(*)::int AS n FROM alert_channels WHERE project_id = $1`, [u.personal.id]);
    expect(n).toBe(0);
  });

  it('only public unicast addresses pass; a CIDR list or true opens what it names', () => {
    expect(addressAllowed('93.184.216.34', false)).toBe(true);
    expect(addressAllowed('2606:4700:4700::1111', false)).toBe(true);
    expect(addressAllowed('127.0.0.1', false)).toBe(false);
    expect(addressAllowed('::ffff:10.0.0.1', false)).toBe(false);
    expect(addressAllowed('127.0.0.1', ['127.0.0.0/8'])).toBe(true);
    expect(addressAllowed('10.0.0.1', ['127.0.0.0/8'])).toBe(false);
    expect(addressAllowed('fd12:3456::1', ['fd12:3456::/32'])).toBe(true);
    expect(addressAllowed('169.254.169.254', ['10.0.0.0/8'])).toBe(false);
    expect(addressAllowed('169.254.169.254', true)).toBe(true);
  });
});

describe('at send time', () => {
  /** A channel whose target was fine when created, as if DNS pointed elsewhere then (rebinding). */
  async function channelTo(url: string) {
    const [row] = await stack.web.ds.query(
      `INSERT INTO alert_channels (project_id, name, type, target_hint, sealed) VALUES ($1, 'rebound', 'webhook', 'http://…', $2) RETURNING id`,
      [u.personal.id, seal({ url, secret: 'whsec_test' })],
    );
    return row.id as number;
  }

  it.each([
    ['a host name that now resolves to 127.0.0.1', () => `http://localhost:${receiver.port}/rebound`],
    ['a literal loopback address', () => `http://127.0.0.1:${receiver.port}/rebound`],
  ])('%s: nothing is sent, the attempt is a permanent failure in the delivery log', async (_what, url) => {
    const id = await channelTo(url());
    const res = await post(`${channels()}${id}/test/`);
    expect(res.status).toBe(202);
    const notification = res.body.notifications[0].id;
    const row = await eventually(async () => {
      const [n] = await stack.web.ds.query(`SELECT status, last_error FROM alert_notifications WHERE id = $1`, [notification]);
      return n.status === 'failed' ? n : null;
    });
    expect(row.last_error).toMatch(/alerts may not be sent to/);
    const [d] = await stack.web.ds.query(
      `SELECT count(*)::int AS n, min(outcome) AS outcome FROM alert_deliveries WHERE notification_id = $1`,
      [notification],
    );
    expect(d).toEqual({ n: 1, outcome: 'failed' });
    expect(receiver.requests.filter((r) => r.url === '/rebound')).toHaveLength(0);
  });

  it('redirects are not followed: a 3xx is a final failure, and the Location is never requested', async () => {
    receiver.reply(status(302, { Location: 'http://169.254.169.254/latest/meta-data/' }));
    const message = {
      id: 'k',
      type: 'alert.test' as const,
      created_at: new Date().toISOString(),
      project: { id: 1, name: 'p' },
      rule: null,
      title: 't',
      text: 'x',
      url: '',
    };
    const result = await send({ type: 'webhook', url: `${receiver.url}/redirect`, secret: 's' }, message, {
      policy: true,
      connectTimeoutMs: 2000,
      timeoutMs: 2000,
      maxResponseBytes: 1024,
    });
    expect(result).toMatchObject({ outcome: 'failed', statusCode: 302, error: expect.stringContaining('redirects are not followed') });
    expect(receiver.requests.filter((r) => r.url === '/redirect')).toHaveLength(1);
  });
});

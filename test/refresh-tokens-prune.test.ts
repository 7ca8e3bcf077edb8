/**
 * The housekeeping job that deletes long-expired refresh tokens: against the real
 * database, called directly and through a real worker.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue, type Job } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { config } from '../src/config.ts';
import { REFRESH_TOKEN_PRUNE_GRACE_MS } from '../src/domain/accounts/sessions.ts';
import { logger } from '../src/logger.ts';
import { workerConnection } from '../src/queues/connection.ts';
import { addJob } from '../src/queues/producer.ts';
import { scheduleHousekeeping } from '../src/workers/housekeepingSchedules.ts';
import { validated } from '../src/workers/index.ts';
import { pruneRefreshTokensProcessor } from '../src/workers/pruneRefreshTokens.ts';
import { createUser } from './helpers/factories.ts';
import { env, eventually, startWeb, startWorker } from './helpers/stack.ts';

let stack: Awaited<ReturnType<typeof startWeb>>;
beforeAll(async () => {
  stack = await startWeb();
});
afterAll(async () => {
  await stack?.web.close();
});

const HOUR = 3600 * 1000;

/** A refresh_tokens row expiring `expiresIn` ms from now (negative: already expired). */
async function token(userId: number, expiresIn: number, state: { revoked?: boolean; used?: boolean } = {}): Promise<string> {
  const jti = randomUUID();
  await stack.web.ds.query(
    `INSERT INTO refresh_tokens (jti, user_id, family, expires_at, used_at, revoked_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $4::timestamptz - interval '7 days')`,
    [jti, userId, randomUUID(), new Date(Date.now() + expiresIn), state.used ? new Date() : null, state.revoked ? new Date() : null],
  );
  return jti;
}

const tokensOf = async (userId: number): Promise<string[]> =>
  (await stack.web.ds.query(`SELECT jti FROM refresh_tokens WHERE user_id = $1`, [userId])).map((r: { jti: string }) => r.jti).sort();

// As a worker runs it: the payload checked against the contract at dispatch, then the processor.
const runPrune = async (data: Record<string, unknown> = {}) =>
  pruneRefreshTokensProcessor(stack.web.ds, logger)(validated({ id: 'test', name: 'prune-refresh-tokens', data } as unknown as Job));

describe('prune-refresh-tokens', () => {
  it('deletes exactly the tokens expired for longer than the grace period, in batches; revoked and spent ones not yet expired stay', async () => {
    const u = await createUser(stack.web.ds);
    const grace = REFRESH_TOKEN_PRUNE_GRACE_MS;
    const live = await tokensOf(u.user.id); // the session createUser started
    const gone = [
      await token(u.user.id, -grace - HOUR),
      await token(u.user.id, -30 * 24 * HOUR),
      await token(u.user.id, -grace - HOUR, { revoked: true }),
      await token(u.user.id, -grace - HOUR, { used: true }),
      await token(u.user.id, -grace - HOUR, { used: true, revoked: true }),
    ];
    const kept = [
      ...live,
      await token(u.user.id, 6 * 24 * HOUR),
      await token(u.user.id, -HOUR), // expired, but within the grace period
      await token(u.user.id, HOUR, { revoked: true }), // reuse detection needs these until they expire
      await token(u.user.id, HOUR, { used: true }),
      await token(u.user.id, HOUR, { used: true, revoked: true }),
    ];

    // Batches of 2: five rows of this user (and whatever else is due) take several statements.
    const run = await runPrune({ batch_size: 2 });
    expect(run.deleted).toBeGreaterThanOrEqual(gone.length);
    expect(await tokensOf(u.user.id)).toEqual(kept.sort());
    // Nothing left to do: a second run deletes nothing of this user's.
    await runPrune();
    expect(await tokensOf(u.user.id)).toEqual(kept.sort());

    // The session that was never touched still refreshes.
    const refreshed = await stack.http.post('/api/auth/refresh/').send({ refresh: u.refresh });
    expect(refreshed.status).toBe(200);
  });

  it('a grace period of 0 deletes every expired token', async () => {
    const u = await createUser(stack.web.ds);
    const live = await tokensOf(u.user.id);
    await token(u.user.id, -HOUR);
    await token(u.user.id, -1000, { revoked: true });
    await runPrune({ grace_ms: 0 });
    expect(await tokensOf(u.user.id)).toEqual(live);
  });

  it('refuses a malformed payload without retrying', async () => {
    await expect(runPrune({ batch_size: 0 })).rejects.toThrow(/invalid prune-refresh-tokens payload/);
  });

  it('is scheduled as a repeatable job with the configured pattern', async () => {
    const redis = workerConnection(env().redisUrl);
    const queue = new Queue('housekeeping', { connection: redis, prefix: config.queuePrefix });
    try {
      await scheduleHousekeeping(redis);
      await scheduleHousekeeping(redis); // idempotent
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.pattern]).sort()).toEqual([
        ['expire-spans', config.housekeeping.spansRetentionSchedule],
        ['maintain-partitions', config.housekeeping.partitionsSchedule],
        ['prune-alerts', config.housekeeping.alertPruneSchedule],
        ['prune-audit-log', config.housekeeping.auditLogPruneSchedule],
        ['prune-refresh-tokens', config.housekeeping.refreshTokenPruneSchedule],
        ['prune-triage', config.housekeeping.triagePruneSchedule],
      ]);
      expect(config.housekeeping.refreshTokenPruneSchedule).toBe('30 3 * * *'); // daily by default
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.quit();
    }
  });

  it('runs through the worker', async () => {
    const u = await createUser(stack.web.ds);
    const old = await token(u.user.id, -REFRESH_TOKEN_PRUNE_GRACE_MS - HOUR);
    const worker = await startWorker();
    try {
      await addJob(stack.web.queues, 'prune-refresh-tokens', {});
      await eventually(async () => !(await tokensOf(u.user.id)).includes(old));
    } finally {
      await worker.close();
    }
  });
});

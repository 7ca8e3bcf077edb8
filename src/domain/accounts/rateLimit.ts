import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../../queues/connection.ts';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.ts';

export interface AuthRateLimitOptions {
  windowSeconds: number;
  /** Attempts (login, registration, client-token) per client IP. */
  perIp: number;
  /** Failed password checks for one account from one client IP before that pair gets 429. */
  perAccount: number;
  /**
   * Past `perAccount` failures for an account from all clients together, each further
   * attempt for it waits 250 ms, doubling, up to this. 0: no slowdown.
   */
  maxDelayMs?: number;
  keyPrefix: string;
}

const BASE_DELAY_MS = 250;
/** What a wrong password answers: counted as a failed attempt. */
const FAILURE_CODES = new Set(['invalid_credentials', 'invalid_current_password']);
// Far above any window's real count: the per-account counter only counts, it never refuses.
const UNCAPPED = 1_000_000_000;

const tooMany = (res: RateLimiterRes) => {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError(
    429,
    'rate_limited',
    'Too many attempts, retry later',
    { retry_after_seconds: seconds },
    { 'Retry-After': String(seconds) },
  );
};

/**
 * Login and registration limits, kept in Redis so they hold across web processes. If
 * Redis is away, an in-process limiter with the same limits stands in.
 *
 * Failed passwords are limited per (account, client IP) pair and only *slowed down* per
 * account: counting per account alone let anyone lock the real owner (staff included)
 * out of their own login by posting ten wrong passwords from anywhere. Now the attacker
 * locks only their own address, and an attack from many addresses makes every attempt
 * on that account wait (a growing delay), the owner's right password included — but it
 * is never refused.
 */
export class AuthRateLimiter {
  private readonly ip: RateLimiterRedis;
  private readonly pair: RateLimiterRedis;
  private readonly account: RateLimiterRedis;

  constructor(
    redis: RedisClient,
    private readonly o: AuthRateLimitOptions,
  ) {
    const make = (name: string, points: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${o.keyPrefix}:rl:${name}`,
        points,
        duration: o.windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ points, duration: o.windowSeconds }),
      });
    this.ip = make('auth-ip', o.perIp);
    this.pair = make('login-account-ip', o.perAccount);
    this.account = make('login-account-slow', UNCAPPED);
  }

  /** Counts one attempt from this IP; 429 once over the limit. */
  async hitIp(ip: string): Promise<void> {
    try {
      await this.ip.consume(ip);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw tooMany(res);
      throw res;
    }
  }

  /** How long the next attempt on this account waits, from its failures (all clients) in the window. */
  async delayMs(account: string): Promise<number> {
    const max = this.o.maxDelayMs ?? 0;
    if (max <= 0) return 0;
    const failures = (await this.account.get(account))?.consumedPoints ?? 0;
    const over = failures - this.o.perAccount;
    return over < 0 ? 0 : Math.min(max, BASE_DELAY_MS * 2 ** Math.min(over, 30));
  }

  /**
   * Runs a password check for `account` (a normalized email) from `ip` under the limits:
   * 429 when this pair failed too often; otherwise it waits the account's delay, runs
   * `check`, and counts a wrong password (invalid_credentials / invalid_current_password)
   * against the pair and the account. A success clears both counters for this pair and account.
   */
  async guard<T>(account: string, ip: string, check: () => Promise<T>): Promise<T> {
    const pairKey = `${account}|${ip}`;
    const res = await this.pair.get(pairKey);
    if (res && res.consumedPoints >= this.o.perAccount) throw tooMany(res);
    const wait = await this.delayMs(account);
    if (wait > 0) await sleep(wait);
    let result: T;
    try {
      result = await check();
    } catch (err) {
      if (err instanceof AppError && FAILURE_CODES.has(err.code)) {
        await Promise.all([this.pair.penalty(pairKey, 1), this.account.penalty(account, 1)]);
      }
      throw err;
    }
    await Promise.all([this.pair.delete(pairKey), this.account.delete(account)]);
    return result;
  }
}

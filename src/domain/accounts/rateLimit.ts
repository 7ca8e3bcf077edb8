import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.ts';

export interface AuthRateLimitOptions {
  windowSeconds: number;
  perIp: number;
  perAccount: number;
  keyPrefix: string;
}

const tooMany = (res: RateLimiterRes) => {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new AppError(429, 'rate_limited', 'Too many attempts, retry later', { retry_after_seconds: seconds }, { 'Retry-After': String(seconds) });
};

/**
 * Login and registration limits, kept in Redis so they hold across web processes:
 * attempts per client IP, and failed logins per account. If Redis is away, an
 * in-process limiter with the same limits stands in.
 */
export class AuthRateLimiter {
  private readonly ip: RateLimiterRedis;
  private readonly account: RateLimiterRedis;

  constructor(redis: Redis, private readonly o: AuthRateLimitOptions) {
    const make = (name: string, points: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${o.keyPrefix}:rl:${name}`,
        points,
        duration: o.windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ points, duration: o.windowSeconds }),
      });
    this.ip = make('auth-ip', o.perIp);
    this.account = make('login-account', o.perAccount);
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

  /** 429 when this account has had too many failed logins recently. */
  async checkAccount(email: string): Promise<void> {
    const res = await this.account.get(email);
    if (res && res.consumedPoints >= this.o.perAccount) throw tooMany(res);
  }

  async failedLogin(email: string): Promise<void> {
    await this.account.penalty(email, 1);
  }

  async succeededLogin(email: string): Promise<void> {
    await this.account.delete(email);
  }
}

// Failed-login counters in Redis, per lower(email) and per client IP, in a fixed window. Shared by
// every api replica. A blocked attempt is refused before the password is even checked.
import { createHash } from 'node:crypto';

import type { Redis } from '@ratewire/runtime';

export interface LoginLimits {
  /** Failures allowed per email within the window. */
  perEmail: number;
  /** Failures allowed per IP within the window (higher: many users can share an address). */
  perIp: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perEmail: 10, perIp: 50, windowSeconds: 15 * 60 };

export interface LimitState {
  blocked: boolean;
  /** Seconds until the window that blocks ends (when blocked). */
  retryAfter: number;
}

export class LoginLimiter {
  readonly limits: LoginLimits;
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(deps: { redis: Redis; prefix: string; limits?: LoginLimits }) {
    this.redis = deps.redis;
    this.prefix = `${deps.prefix}login:fail:`;
    this.limits = deps.limits ?? DEFAULT_LOGIN_LIMITS;
  }

  // the email is hashed so that Redis holds no addresses
  private keys(email: string, ip: string) {
    const id = createHash('sha256').update(email.toLowerCase()).digest('base64url');
    return { email: `${this.prefix}email:${id}`, ip: `${this.prefix}ip:${ip}` };
  }

  async check(email: string, ip: string): Promise<LimitState> {
    const k = this.keys(email, ip);
    const res = await this.redis.multi().get(k.email).ttl(k.email).get(k.ip).ttl(k.ip).exec();
    const val = (i: number) => (res?.[i]?.[1] as string | number | null | undefined) ?? null;
    const emailCount = Number(val(0) ?? 0);
    const ipCount = Number(val(2) ?? 0);
    let retryAfter = 0;
    if (emailCount >= this.limits.perEmail) retryAfter = Math.max(retryAfter, Number(val(1)));
    if (ipCount >= this.limits.perIp) retryAfter = Math.max(retryAfter, Number(val(3)));
    const blocked = emailCount >= this.limits.perEmail || ipCount >= this.limits.perIp;
    return { blocked, retryAfter: blocked ? Math.max(1, retryAfter) : 0 };
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const k = this.keys(email, ip);
    const w = this.limits.windowSeconds;
    await this.redis.multi().incr(k.email).expire(k.email, w, 'NX').incr(k.ip).expire(k.ip, w, 'NX').exec();
  }

  /** A successful login clears the email's counter (the IP's keeps counting its failures). */
  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.redis.del(this.keys(email, ip).email);
  }
}

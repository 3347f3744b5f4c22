// Attempt counters in Redis, per lower(email) and per client IP, in a fixed window, shared by every
// api replica: failed logins, and requests that send mail (confirmation resends, password resets).
// A blocked attempt is refused before any other work is done.
import { createHash } from 'node:crypto';

import type { RedisClient } from '@ratewire/runtime';

import { AppError } from '../http/app-error.ts';

export interface AttemptLimits {
  /** Attempts allowed per email within the window. */
  perEmail: number;
  /** Attempts allowed per IP within the window (higher: many users can share an address). */
  perIp: number;
  windowSeconds: number;
}

/** Failed logins; wrong current passwords (counted apart). */
export const LOGIN_LIMITS: AttemptLimits = { perEmail: 10, perIp: 50, windowSeconds: 15 * 60 };
/** Requests that mail a link: a person needs a few, a mail bomb needs many. */
export const MAIL_REQUEST_LIMITS: AttemptLimits = { perEmail: 5, perIp: 30, windowSeconds: 60 * 60 };

export interface LimitState {
  blocked: boolean;
  /** Seconds until the window that blocks ends (when blocked). */
  retryAfter: number;
}

export class TooManyAttempts extends AppError {
  readonly retryAfter: number;
  constructor(what: string, retryAfter: number) {
    super(429, 'too_many_attempts', `too many ${what}; try again in ${retryAfter} s`, undefined, {
      'retry-after': String(retryAfter),
    });
    this.retryAfter = retryAfter;
  }
}

export class AttemptLimiter {
  readonly limits: AttemptLimits;
  /** What is counted, for the 429's message ("failed logins"). */
  readonly what: string;
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(deps: { redis: RedisClient; prefix: string; name: string; what: string; limits: AttemptLimits }) {
    this.redis = deps.redis;
    this.prefix = `${deps.prefix}${deps.name}:`;
    this.what = deps.what;
    this.limits = deps.limits;
  }

  // the email is hashed so that Redis holds no addresses
  private keys(email: string, ip: string) {
    const id = createHash('sha256').update(email.toLowerCase()).digest('base64url');
    return { email: `${this.prefix}email:${id}`, ip: `${this.prefix}ip:${ip}` };
  }

  async check(email: string, ip: string): Promise<LimitState> {
    const k = this.keys(email, ip);
    // one MULTI per key: the two keys are unrelated (in a Redis Cluster, in different slots)
    const [byEmail, byIp] = await Promise.all([
      this.redis.multi().get(k.email).ttl(k.email).exec(),
      this.redis.multi().get(k.ip).ttl(k.ip).exec(),
    ]);
    const res = [...(byEmail ?? []), ...(byIp ?? [])];
    const val = (i: number) => (res[i]?.[1] as string | number | null | undefined) ?? null;
    const emailCount = Number(val(0) ?? 0);
    const ipCount = Number(val(2) ?? 0);
    let retryAfter = 0;
    if (emailCount >= this.limits.perEmail) retryAfter = Math.max(retryAfter, Number(val(1)));
    if (ipCount >= this.limits.perIp) retryAfter = Math.max(retryAfter, Number(val(3)));
    const blocked = emailCount >= this.limits.perEmail || ipCount >= this.limits.perIp;
    return { blocked, retryAfter: blocked ? Math.max(1, retryAfter) : 0 };
  }

  /** Throws TooManyAttempts when the email or the address has used up its window. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const state = await this.check(email, ip);
    if (state.blocked) throw new TooManyAttempts(this.what, state.retryAfter);
  }

  async record(email: string, ip: string): Promise<void> {
    const k = this.keys(email, ip);
    const w = this.limits.windowSeconds;
    await Promise.all([
      this.redis.multi().incr(k.email).expire(k.email, w, 'NX').exec(),
      this.redis.multi().incr(k.ip).expire(k.ip, w, 'NX').exec(),
    ]);
  }

  /** Clears the email's counter (a successful login; the IP's keeps counting). */
  async clear(email: string, ip: string): Promise<void> {
    await this.redis.del(this.keys(email, ip).email);
  }
}
